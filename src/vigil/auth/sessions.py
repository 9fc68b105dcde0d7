"""Browser sessions: an HttpOnly cookie plus a CSRF token sent back on every unsafe request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from vigil.auth.access import Access
from vigil.auth.roles import Principal, RequestContext, Role
from vigil.auth.secrets import new_secret, same_hash, secret_hash
from vigil.config import AuthConfig
from vigil.errors import Forbidden, NotAuthenticated
from vigil.store.models import User, WebSession

SESSION_PREFIX = "vigil-session"
CSRF_PREFIX = "vigil-csrf"


@dataclass(frozen=True, slots=True)
class NewSession:
    secret: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ActiveSession:
    id: int
    principal: Principal
    csrf_hash: bytes

    def check_csrf(self, token: str | None) -> None:
        if not token or not same_hash(secret_hash(token), self.csrf_hash):
            raise Forbidden("missing or wrong CSRF token (send it in the X-CSRF-Token header)")


class SessionService:
    def __init__(self, access: Access, config: AuthConfig) -> None:
        self.access = access
        self.db = access.db
        self.ttl = timedelta(hours=config.session_hours)

    def start(self, ctx: RequestContext) -> NewSession:
        """Open a session for a principal that has just logged in."""
        assert ctx.principal.user_id is not None  # noqa: S101 - only users log in
        secret, csrf = new_secret(SESSION_PREFIX), new_secret(CSRF_PREFIX)
        now = datetime.now(UTC)
        with self.db.write() as session:
            row = WebSession(
                user_id=ctx.principal.user_id,
                secret_hash=secret_hash(secret),
                csrf_hash=secret_hash(csrf),
                created_at=now,
                expires_at=now + self.ttl,
            )
            session.add(row)
            session.flush()
            self.access.record(session, ctx, "session.start", f"session:{row.id}")
        return NewSession(secret=secret, csrf_token=csrf, expires_at=now + self.ttl)

    def resolve(self, secret: str) -> ActiveSession:
        with self.db.read() as session:
            row = session.execute(
                select(WebSession, User)
                .join(User)
                .where(WebSession.secret_hash == secret_hash(secret))
            ).first()
        if row is None:
            raise NotAuthenticated("unknown session; log in again")
        web, user = row
        if web.ended_at is not None or web.expires_at <= datetime.now(UTC):
            raise NotAuthenticated("session has ended; log in again")
        if user.disabled_at is not None:
            raise NotAuthenticated("the session's user is disabled")
        principal = Principal(name=user.name, kind="user", role=Role(user.role), user_id=user.id)
        return ActiveSession(id=web.id, principal=principal, csrf_hash=web.csrf_hash)

    def end(self, ctx: RequestContext, session_id: int) -> None:
        with self.db.write() as session:
            web = session.get_one(WebSession, session_id)
            if web.ended_at is None:
                web.ended_at = datetime.now(UTC)
            self.access.record(session, ctx, "session.end", f"session:{session_id}")
