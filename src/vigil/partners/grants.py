"""What a key lets its holder do: its grant, read from the store whenever it is used.

A key works inside its window, until revoked, once a supervisor approved it, for the
cameras it names, up to its quota (exports' reservations included). A client that keeps
sending keys that do not work is refused before any lookup.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import Principal
from vigil.auth.secrets import secret_hash
from vigil.errors import Forbidden, NotAuthenticated, NotFound
from vigil.publishing.limits import ClientLimiter, ClientLimits
from vigil.store.models import Camera, OrganisationRow, PartnerKeyCamera, PartnerKeyRow, UsageRow

KEY_FAILURES_PER_MINUTE = 10  # refused keys per client address: a typo, not a guessing run


@dataclass(frozen=True, slots=True)
class Grant:
    """What a key lets its holder do, as read when it was last checked."""

    key_id: int
    organisation_id: int
    organisation: str
    title: str
    cameras: dict[str, int]  # name: id
    valid_from: datetime
    valid_until: datetime
    quota_s: int
    used_s: float
    issued_by: str

    @property
    def left_s(self) -> float:
        return max(0.0, self.quota_s - self.used_s)

    @property
    def principal(self) -> Principal:
        return Principal(
            name=f"org:{self.organisation}",
            kind="organisation",
            token_id=self.key_id,
            token_creator=self.issued_by,
        )

    def camera_id(self, name: str) -> int:
        """The camera's id if the key reaches it; others are answered as not there."""
        if name not in self.cameras:
            raise NotFound(f"no camera named {name!r} for this key", camera=name)
        return self.cameras[name]

    def with_used(self, used: float) -> Grant:
        return replace(self, used_s=used)

    def require_quota(self, seconds: float = 0.0) -> None:
        if self.used_s + seconds > self.quota_s:
            raise Forbidden(
                f"the key's quota of {self.quota_s} s of video is used up "
                f"({self.used_s:.0f} s used)",
                quota_s=self.quota_s,
                used_s=round(self.used_s, 3),
            )


def used_s(session: Session, key_id: int) -> float:
    """The key's seconds of video used so far, exports' reservations included."""
    total = session.scalar(select(func.sum(UsageRow.seconds)).where(UsageRow.key_id == key_id))
    return float(total or 0.0)


def key_cameras(session: Session, key_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Camera.name, Camera.id)
        .join(PartnerKeyCamera, PartnerKeyCamera.camera_id == Camera.id)
        .where(PartnerKeyCamera.key_id == key_id)
        .order_by(Camera.name)
    )
    return {str(name): int(camera_id) for name, camera_id in rows}


def grant_of(session: Session, key: PartnerKeyRow) -> Grant:
    """The key's grant now; NotAuthenticated when it is revoked or outside its window."""
    now = datetime.now(UTC)
    if key.revoked_at is not None:
        raise NotAuthenticated("this key was revoked")
    if key.approved_at is None:
        raise NotAuthenticated("this key awaits a supervisor's approval")
    if now < key.valid_from:
        raise NotAuthenticated(f"this key is valid from {key.valid_from.isoformat()}")
    if now >= key.valid_until:
        raise NotAuthenticated(f"this key expired at {key.valid_until.isoformat()}")
    organisation = session.get_one(OrganisationRow, key.organisation_id)
    return Grant(
        key_id=key.id,
        organisation_id=organisation.id,
        organisation=organisation.name,
        title=organisation.title,
        cameras=key_cameras(session, key.id),
        valid_from=key.valid_from,
        valid_until=key.valid_until,
        quota_s=key.quota_s,
        used_s=used_s(session, key.id),
        issued_by=key.created_by,
    )


class KeyGrants:
    def __init__(self, access: Access) -> None:
        self.db = access.db
        # Keys that do not work, per client address: a client that keeps sending them is
        # refused (429) before any lookup, and its refusals are not all audited.
        self.key_failures = ClientLimiter(
            ClientLimits(requests_per_minute=KEY_FAILURES_PER_MINUTE, what="refused keys")
        )

    def authenticate(self, secret: str, client: str) -> Grant:
        """The grant of a key's secret, or NotAuthenticated (unknown, revoked, outside its
        window); TooManyAttempts once the client had KEY_FAILURES_PER_MINUTE refused."""
        self.key_failures.check(client)
        try:
            return self._grant_of(secret)
        except NotAuthenticated:
            self.key_failures.request(client)
            raise

    def _grant_of(self, secret: str) -> Grant:
        with self.db.read() as session:
            key = session.scalar(
                select(PartnerKeyRow).where(PartnerKeyRow.secret_hash == secret_hash(secret))
            )
            if key is None:
                raise NotAuthenticated("unknown organisation key")
            return grant_of(session, key)

    def recheck(self, key_id: int) -> Grant:
        """The key's grant now: NotAuthenticated once revoked or expired, Forbidden once its
        quota is used up, NotFound once the camera is out of it (it is checked as it plays)."""
        with self.db.read() as session:
            key = session.get(PartnerKeyRow, key_id)
            if key is None:
                raise NotAuthenticated("this key no longer exists")
            grant = grant_of(session, key)
        grant.require_quota()
        return grant

    def reaches(self, organisation_id: int, camera_id: int) -> bool:
        """Whether some key of the organisation that is valid now reaches the camera."""
        now = datetime.now(UTC)
        with self.db.read() as session:
            found = session.scalar(
                select(func.count(PartnerKeyRow.id))
                .join(PartnerKeyCamera, PartnerKeyCamera.key_id == PartnerKeyRow.id)
                .where(PartnerKeyRow.organisation_id == organisation_id)
                .where(PartnerKeyCamera.camera_id == camera_id)
                .where(PartnerKeyRow.revoked_at.is_(None), PartnerKeyRow.approved_at.is_not(None))
                .where(PartnerKeyRow.valid_from <= now, PartnerKeyRow.valid_until > now)
            )
        return bool(found)
