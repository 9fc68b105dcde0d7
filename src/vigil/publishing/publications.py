"""Which cameras the public may watch: each made public by two people, and withdrawn by one.

An admin proposes a camera (with a reason), and a supervisor who can see the camera and did
not propose it approves it; only then does ``/public`` show it, and then only as redacted,
delayed video (``publishing.broadcast``). Either of them, or anyone else holding one of the
two permissions for that camera, withdraws it at once. Every step is audited in the
transaction that makes it; a camera has at most one live or pending publication.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import Permission, RequestContext
from vigil.cameras.registry import find_visible, visible
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.store.models import Camera, PublicationRow

MAX_REASON = 500
P = Permission


@dataclass(frozen=True, slots=True)
class PublicationInfo:
    id: int
    camera: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    withdrawn_by: str | None
    withdrawn_at: datetime | None

    @property
    def status(self) -> str:
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "public" if self.approved_at is not None else "awaiting approval"

    def to_dict(self) -> dict[str, Any]:
        def when(t: datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        return {
            "id": self.id,
            "camera": self.camera,
            "reason": self.reason,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at.isoformat(),
            "approved_by": self.approved_by,
            "approved_at": when(self.approved_at),
            "withdrawn_by": self.withdrawn_by,
            "withdrawn_at": when(self.withdrawn_at),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class PublicCamera:
    """What the public learns of a public camera: its name and where it is, nothing else."""

    id: int
    name: str
    latitude: float | None
    longitude: float | None


def _info(row: PublicationRow, camera: str) -> PublicationInfo:
    return PublicationInfo(
        row.id,
        camera,
        row.reason,
        row.proposed_by,
        row.proposed_at,
        row.approved_by,
        row.approved_at,
        row.withdrawn_by,
        row.withdrawn_at,
    )


def _open(session: Session, camera_id: int) -> PublicationRow | None:
    """The camera's publication that is not withdrawn (pending or public), if any."""
    return session.scalar(
        select(PublicationRow).where(
            PublicationRow.camera_id == camera_id, PublicationRow.withdrawn_at.is_(None)
        )
    )


class Publications:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def propose(self, ctx: RequestContext, camera: str, reason: str) -> PublicationInfo:
        target = f"camera:{camera}"
        action = "publication.propose"
        with self.access.attempt(ctx, P.PUBLISHING_PROPOSE, action, target):
            if not reason.strip():
                raise InvalidInput("say why the camera should be public", field="reason")
            check_text(reason, what="reason", max_chars=MAX_REASON)
            with self.db.write() as session:
                row = find_visible(session, ctx, camera)
                if _open(session, row.id) is not None:
                    raise Conflict(f"camera {camera!r} is public or proposed already")
                publication = PublicationRow(
                    camera_id=row.id,
                    reason=reason,
                    proposed_by=ctx.principal.name,
                    proposed_at=datetime.now(UTC),
                )
                session.add(publication)
                session.flush()
                info = _info(publication, row.name)
                self.access.record(session, ctx, action, target, info.to_dict())
                return info

    def approve(self, ctx: RequestContext, publication_id: int) -> PublicationInfo:
        return self._decide(ctx, publication_id, "publication.approve")

    def withdraw(self, ctx: RequestContext, publication_id: int) -> PublicationInfo:
        return self._decide(ctx, publication_id, "publication.withdraw")

    def _decide(self, ctx: RequestContext, publication_id: int, action: str) -> PublicationInfo:
        target = f"publication:{publication_id}"
        approving = action == "publication.approve"
        with self.access.attempt(ctx, None, action, target):
            needs = {P.PUBLISHING_APPROVE}
            if not approving:
                needs.add(P.PUBLISHING_PROPOSE)
            if not any(ctx.principal.can(p) for p in needs):
                names = " or ".join(sorted(needs))
                raise Forbidden(f"{ctx.principal.name} may not {action} (needs {names})")
            with self.db.write() as session:
                row = session.get(PublicationRow, publication_id)
                camera = None if row is None else session.get(Camera, row.camera_id)
                if row is None or camera is None or not visible(session, ctx, camera):
                    # A camera outside the caller's groups is answered as no publication at
                    # all: the answer must not tell that one exists, nor name its camera.
                    raise NotFound(f"no publication {publication_id}", publication=publication_id)
                if row.withdrawn_at is not None:
                    raise Conflict(f"publication {publication_id} was withdrawn")
                now = datetime.now(UTC)
                if approving:
                    if row.proposed_by == ctx.principal.name:
                        raise Forbidden("nobody approves their own proposal")
                    if row.approved_at is not None:
                        raise Conflict(f"publication {publication_id} is approved already")
                    row.approved_by, row.approved_at = ctx.principal.name, now
                else:
                    row.withdrawn_by, row.withdrawn_at = ctx.principal.name, now
                info = _info(row, camera.name)
                self.access.record(session, ctx, action, target, {"camera": camera.name})
                return info

    def list(self, ctx: RequestContext) -> builtins.list[PublicationInfo]:
        """Every publication, pending, public and withdrawn, of the cameras one can see."""
        action = "publication.list"
        with self.access.reading(ctx, None, action, "publications") as (session, details):
            if not any(ctx.principal.can(p) for p in (P.PUBLISHING_PROPOSE, P.PUBLISHING_APPROVE)):
                raise Forbidden(f"{ctx.principal.name} may not {action}")
            rows = session.execute(
                select(PublicationRow, Camera)
                .join(Camera, Camera.id == PublicationRow.camera_id)
                .order_by(PublicationRow.id)
            ).all()
            found = [
                _info(publication, camera.name)
                for publication, camera in rows
                if visible(session, ctx, camera)
            ]
            details["count"] = len(found)
        return found

    def public_cameras(self) -> builtins.list[PublicCamera]:
        """The cameras the public may watch now (approved, not withdrawn)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(Camera)
                .join(PublicationRow, PublicationRow.camera_id == Camera.id)
                .where(PublicationRow.approved_at.is_not(None))
                .where(PublicationRow.withdrawn_at.is_(None))
                .order_by(Camera.name)
            )
            return [PublicCamera(c.id, c.name, c.latitude, c.longitude) for c in rows]

    def public_camera(self, name: str) -> PublicCamera:
        """One public camera; a camera that is not public is answered as not there."""
        for camera in self.public_cameras():
            if camera.name == name:
                return camera
        raise NotFound(f"no public camera named {name!r}", camera=name)

    def is_public(self, camera_id: int) -> bool:
        return any(c.id == camera_id for c in self.public_cameras())
