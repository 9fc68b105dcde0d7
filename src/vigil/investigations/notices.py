"""Notices to supervisors and auditors: quota hits and unusual use of search.

A notice is written in the transaction of what caused it (or, for a refusal, on its own)
and is itself in the audit log; supervisors and auditors read them, nobody deletes them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import SYSTEM, Permission, RequestContext
from vigil.store.models import Notice

MAX_LISTED = 1000


@dataclass(frozen=True, slots=True)
class NoticeInfo:
    id: int
    kind: str
    username: str
    case_id: int | None
    message: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "user": self.username,
            "case_id": self.case_id,
            "message": self.message,
            "created_at": self.created_at.isoformat(),
        }


def raise_notice(
    access: Access,
    session: Session,
    kind: str,
    username: str,
    message: str,
    *,
    case_id: int | None,
    now: datetime,
) -> None:
    """Add a notice (and its audit record, actor ``system``) to the caller's transaction."""
    row = Notice(kind=kind, username=username, case_id=case_id, message=message, created_at=now)
    session.add(row)
    session.flush()
    ctx = RequestContext(SYSTEM, uuid.uuid4().hex, "abuse-controls")
    details = {"kind": kind, "user": username, "case_id": case_id, "message": message}
    access.record(session, ctx, "notice.raise", f"notice:{row.id}", details)


class NoticeService:
    def __init__(self, access: Access) -> None:
        self.access = access

    def list(self, ctx: RequestContext, *, after: int = 0) -> list[NoticeInfo]:
        """Notices newer than id ``after``, oldest first (at most 1000)."""
        reading = self.access.reading(ctx, Permission.NOTICES_READ, "notice.list", "notices")
        with reading as (session, details):
            rows = session.scalars(
                select(Notice).where(Notice.id > after).order_by(Notice.id).limit(MAX_LISTED)
            )
            found = [
                NoticeInfo(r.id, r.kind, r.username, r.case_id, r.message, r.created_at)
                for r in rows
            ]
            details.update({"after": after, "count": len(found)})
        return found
