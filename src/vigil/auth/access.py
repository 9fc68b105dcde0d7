"""Permission checks and the audit records that go with every access."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vigil.audit.entry import Outcome
from vigil.audit.log import AuditLog, Record
from vigil.audit.writer import AuditWriter
from vigil.auth.roles import Permission, RequestContext
from vigil.errors import Forbidden, VigilError
from vigil.store.db import Database

logger = logging.getLogger(__name__)


class Access:
    """Every service goes through here to check a permission and to write its audit record.

    A change is recorded in the same transaction as the change itself (``record``); a read
    or a refusal, which changes nothing else, is recorded through the group-commit writer
    (``record_alone``, ``deny``) and is durable before the caller answers. On PostgreSQL a
    change's record is staged (``AuditLog.stage``): once the change commits, the writer
    moves it into the log, with other callers' in one commit, before ``write`` returns.
    """

    def __init__(self, db: Database, audit: AuditLog, writer: AuditWriter) -> None:
        self.db = db
        self.audit = audit
        self.writer = writer

    @staticmethod
    def _entry(
        ctx: RequestContext,
        action: str,
        target: str,
        details: Mapping[str, Any] | None,
        outcome: Outcome,
    ) -> Record:
        principal = ctx.principal
        via = (
            {}
            if principal.token_id is None
            else {"via_token": {"id": principal.token_id, "created_by": principal.token_creator}}
        )
        return Record(
            actor=principal.name,
            action=action,
            target=target,
            request_id=ctx.request_id,
            outcome=outcome,
            details={"client": ctx.client, **(details or {}), **via},
        )

    def record(
        self,
        session: Session,
        ctx: RequestContext,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
        outcome: Outcome = Outcome.ALLOWED,
    ) -> None:
        """Record a change inside the transaction that makes it."""
        if self.audit.stage(session, self._entry(ctx, action, target, details, outcome)):
            self.db.after_commit(session, self._drain)

    def _drain(self) -> None:
        """After the change's commit (its record is durable, staged): its place in the log.
        A failure leaves the record staged for the next append, and the change stands."""
        try:
            self.writer.drain()
        except (SQLAlchemyError, VigilError, TimeoutError) as exc:  # the writer logged it
            logger.warning("a change's audit record waits for the next append: %s", exc)

    def record_alone(
        self,
        ctx: RequestContext,
        action: str,
        target: str,
        details: Mapping[str, Any] | None = None,
        outcome: Outcome = Outcome.ALLOWED,
    ) -> int:
        """Record a read or a refusal; returns its position in the log once committed."""
        return self.writer.record(self._entry(ctx, action, target, details, outcome))

    def deny(
        self,
        ctx: RequestContext,
        action: str,
        target: str,
        error: VigilError,
        details: Mapping[str, Any] | None = None,
    ) -> VigilError:
        """Record a refusal (once) and hand back the error for the caller to raise."""
        if not error.audited:
            reason = {"reason": error.code, "message": error.message, **(details or {})}
            self.record_alone(ctx, action, target, reason, Outcome.DENIED)
            error.audited = True
        return error

    def require(
        self, ctx: RequestContext, permission: Permission, action: str, target: str
    ) -> None:
        if not ctx.principal.can(permission):
            raise self.deny(
                ctx,
                action,
                target,
                Forbidden(f"{ctx.principal.name} may not {action} (needs {permission})"),
            )

    @contextmanager
    def reading(
        self, ctx: RequestContext, permission: Permission | None, action: str, target: str
    ) -> Iterator[tuple[Session, dict[str, Any]]]:
        """A checked read: yields a session and a dict of details for its record.

        The read is recorded (with those details) only once it succeeded, and durably
        before the caller can hand anything out; a refusal is recorded as denied.
        """
        details: dict[str, Any] = {}
        with self.attempt(ctx, permission, action, target), self.db.read() as session:
            yield session, details
        self.record_alone(ctx, action, target, details)

    @contextmanager
    def attempt(
        self, ctx: RequestContext, permission: Permission | None, action: str, target: str
    ) -> Iterator[None]:
        """Check ``permission`` (if any), then record any refusal raised inside as denied.

        The work inside records its own success in its own transaction; a bad name, a
        missing record or a conflict rolls that back and leaves one denied entry instead.
        """
        if permission is not None:
            self.require(ctx, permission, action, target)
        try:
            yield
        except VigilError as exc:
            self.deny(ctx, action, target, exc)
            raise
