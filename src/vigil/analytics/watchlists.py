"""Watchlists: people to look for, each with a legal basis, a reference and an expiry.

An entry matches nothing until a supervisor who did not propose it approves it, and
nothing after it expires or is ended. Reference photos are reduced to a face crop and a
descriptor; the uploaded file itself is not kept (its SHA-256 is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import Permission, RequestContext
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.faces.descriptors import tags_with
from vigil.faces.engine import FaceEngine
from vigil.faces.photos import Photos
from vigil.faces.reference import reference_face
from vigil.store.models import WatchlistEntry, WatchlistPhoto

MAX_PHOTOS = 10
MAX_DAYS = 365
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class EntryInfo:
    id: int
    label: str
    legal_basis: str
    reference: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    expires_at: datetime
    ended_at: datetime | None
    photos: int
    # Reference photos without the configured embedder's descriptors (described before it
    # was chosen): never compared, so the entry says so.
    uncompared: int = 0
    embedder: str = "dlib"

    def status(self, now: datetime) -> str:
        if self.ended_at is not None:
            return "ended"
        if self.expires_at <= now:
            return "expired"
        return "active" if self.approved_by is not None else "awaiting approval"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "legal_basis": self.legal_basis,
            "reference": self.reference,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "approved_by": self.approved_by,
            "expires_at": self.expires_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "photos": self.photos,
            "status": self.status(datetime.now(UTC)),
        } | self._uncompared()

    def _uncompared(self) -> dict[str, Any]:
        if not self.uncompared:
            return {}
        return {
            "photos_not_compared": self.uncompared,
            "warning": (
                f"{self.uncompared} of {self.photos} reference photo(s) lack {self.embedder} "
                "descriptors (described under another embedder) and are not compared: "
                "propose the entry again with its photos"
            ),
        }


def _info(session: Session, row: WatchlistEntry, embedder: str) -> EntryInfo:
    photos = session.scalar(
        select(func.count(WatchlistPhoto.id)).where(WatchlistPhoto.entry_id == row.id)
    )
    uncompared = session.scalar(
        select(func.count(WatchlistPhoto.id)).where(
            WatchlistPhoto.entry_id == row.id,
            WatchlistPhoto.embedding_models.not_in(tags_with(embedder)),
        )
    )
    return EntryInfo(
        row.id,
        row.label,
        row.legal_basis,
        row.reference,
        row.created_by,
        row.created_at,
        row.approved_by,
        row.expires_at,
        row.ended_at,
        int(photos or 0),
        int(uncompared or 0),
        embedder,
    )


class WatchlistService:
    def __init__(self, access: Access, engine: FaceEngine, photos: Photos) -> None:
        self.access = access
        self.db = access.db
        self.engine = engine
        self.photos = photos

    def propose(
        self,
        ctx: RequestContext,
        label: str,
        photos: list[tuple[str, bytes]],
        *,
        basis: str,
        reference: str,
        expires: datetime,
    ) -> EntryInfo:
        target = f"watchlist:{label}"
        with self.access.attempt(ctx, Permission.WATCHLIST_PROPOSE, "watchlist.propose", target):
            for value, what in ((label, "label"), (basis, "legal basis"), (reference, "reference")):
                if not value.strip():
                    raise InvalidInput(f"the {what} must not be empty", field=what)
                check_text(value, what=what, max_chars=MAX_TEXT)
            now = datetime.now(UTC)
            if expires.tzinfo is None:
                raise InvalidInput("the expiry needs a time zone, e.g. 2027-01-31T00:00Z")
            if not now < expires <= now + timedelta(days=MAX_DAYS):
                raise InvalidInput(f"the expiry must be in the future, within {MAX_DAYS} days")
            if not 1 <= len(photos) <= MAX_PHOTOS:
                raise InvalidInput(f"give 1 to {MAX_PHOTOS} reference photos")
            with self.photos.working(ctx, len(photos)):
                faces = [
                    reference_face(self.engine, self.photos.limits, name, data)
                    for name, data in photos
                ]
            with self.db.write() as session:
                row = WatchlistEntry(
                    label=label,
                    legal_basis=basis,
                    reference=reference,
                    created_by=ctx.principal.name,
                    created_at=now,
                    expires_at=expires,
                )
                session.add(row)
                session.flush()
                for face in faces:
                    session.add(
                        WatchlistPhoto(
                            entry_id=row.id,
                            crop=face.crop_jpeg,
                            embedding=face.descriptor_bytes(),
                            embedding_models=face.models,
                            sha256=face.sha256,
                        )
                    )
                session.flush()
                info = _info(session, row, self.engine.space.embedder)
                details = {k: v for k, v in info.to_dict().items() if k != "status"}
                details["photo_sha256"] = [face.sha256 for face in faces]
                self.access.record(
                    session, ctx, "watchlist.propose", f"watchlist:{row.id}", details
                )
                return info

    def approve(self, ctx: RequestContext, entry_id: int) -> EntryInfo:
        return self._change(ctx, entry_id, "watchlist.approve", Permission.WATCHLIST_APPROVE)

    def end(self, ctx: RequestContext, entry_id: int) -> EntryInfo:
        return self._change(ctx, entry_id, "watchlist.end", Permission.WATCHLIST_PROPOSE)

    def _change(
        self, ctx: RequestContext, entry_id: int, action: str, permission: Permission
    ) -> EntryInfo:
        target = f"watchlist:{entry_id}"
        with self.access.attempt(ctx, permission, action, target), self.db.write() as session:
            row = session.get(WatchlistEntry, entry_id)
            if row is None:
                raise NotFound(f"no watchlist entry {entry_id}", entry=entry_id)
            now = datetime.now(UTC)
            ending = action == "watchlist.end"
            own = row.created_by == ctx.principal.name
            # Who may act is decided before what state the entry is in, which is theirs.
            if ending and not own and not ctx.principal.can(Permission.WATCHLIST_APPROVE):
                raise Forbidden(
                    f"{ctx.principal.name} may not end watchlist entry {entry_id}: "
                    f"{row.created_by} proposed it (a supervisor may end it)"
                )
            if not ending and own:
                raise Forbidden("nobody approves their own watchlist entry")
            if row.ended_at is not None or row.expires_at <= now:
                raise Conflict(f"watchlist entry {entry_id} has ended or expired")
            if ending:
                row.ended_at = now
            else:
                if row.approved_by is not None:
                    raise Conflict(f"watchlist entry {entry_id} is approved already")
                row.approved_by, row.approved_at = ctx.principal.name, now
            info = _info(session, row, self.engine.space.embedder)
            self.access.record(session, ctx, action, target, {"label": row.label})
            return info

    def list(self, ctx: RequestContext) -> list[EntryInfo]:
        reading = self.access.reading(ctx, Permission.WATCHLIST_READ, "watchlist.list", "entries")
        with reading as (session, details):
            rows = session.scalars(select(WatchlistEntry).order_by(WatchlistEntry.id))
            entries = [_info(session, row, self.engine.space.embedder) for row in rows]
            details["count"] = len(entries)
        return entries
