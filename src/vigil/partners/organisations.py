"""Organisations and their keys: who outside the city may watch which cameras, when, and how
much.

An admin registers an organisation (an insurer, a utility, a broadcaster) with the purpose
of its access, and issues it keys. A key names the cameras it reaches (the admin must be
able to see each), a time window (the key works only inside it, and exports only footage
recorded inside it) and a quota of seconds of video, watched and exported together. The
key's secret is shown once and stored hashed. A key works once a supervisor of every one of
its cameras' groups, not its issuer, approves it, as a publication does; either of them
revokes it. Revoking a key ends its open streams within seconds (``partners.video`` checks
the key every second). Every step is audited; so is
every stream and export taken with a key, as the organisation (``org:NAME``).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_name, check_text
from vigil.auth.roles import Permission, RequestContext
from vigil.auth.secrets import new_secret, secret_hash
from vigil.cameras.groups import member_of
from vigil.cameras.registry import find_visible
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.partners.grants import KeyGrants, key_cameras, used_s
from vigil.store.models import Camera, OrganisationRow, PartnerKeyCamera, PartnerKeyRow

KEY_PREFIX = "vigilorg"
MAX_TITLE = 128
MAX_PURPOSE = 1000
MAX_WINDOW = timedelta(days=366)
MAX_QUOTA_S = 10_000_000  # about 115 days of video
MAX_CAMERAS = 256
P = Permission


def when(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    organisation: str
    label: str
    cameras: list[str]
    valid_from: datetime
    valid_until: datetime
    quota_s: int
    used_s: float
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.approved_at is None:
            return "awaiting approval"
        if now < self.valid_from:
            return "not yet valid"
        if now >= self.valid_until:
            return "expired"
        return "quota used" if self.used_s >= self.quota_s else "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "organisation": self.organisation,
            "label": self.label,
            "cameras": self.cameras,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "quota_s": self.quota_s,
            "used_s": round(self.used_s, 3),
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "revoked_by": self.revoked_by,
            "revoked_at": when(self.revoked_at),
            "approved_by": self.approved_by,
            "approved_at": when(self.approved_at),
            "status": self.status(datetime.now(UTC)),
        }


@dataclass(frozen=True, slots=True)
class OrganisationInfo:
    id: int
    name: str
    title: str
    purpose: str
    created_by: str
    created_at: datetime
    keys: list[KeyInfo]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "purpose": self.purpose,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "keys": [k.to_dict() for k in self.keys],
        }


@dataclass(frozen=True, slots=True)
class KeySpec:
    cameras: list[str]
    valid_from: datetime
    valid_until: datetime
    quota_s: int
    label: str = ""

    def check(self) -> None:
        if not self.cameras:
            raise InvalidInput("a key reaches at least one camera", field="cameras")
        if len(self.cameras) > MAX_CAMERAS:
            raise InvalidInput(f"a key reaches at most {MAX_CAMERAS} cameras", field="cameras")
        for t, name in ((self.valid_from, "valid_from"), (self.valid_until, "valid_until")):
            if t.tzinfo is None:
                raise InvalidInput(f"{name} needs a time zone", field=name)
        if not self.valid_from < self.valid_until <= self.valid_from + MAX_WINDOW:
            raise InvalidInput(
                "the window must end after it starts, and last at most 366 days",
                field="valid_until",
            )
        if not 1 <= self.quota_s <= MAX_QUOTA_S:
            raise InvalidInput(f"the quota is 1 to {MAX_QUOTA_S} seconds", field="quota_s")
        check_text(self.label, what="label", max_chars=MAX_TITLE)


def _key_info(session: Session, key: PartnerKeyRow, organisation: str) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        organisation=organisation,
        label=key.label,
        cameras=list(key_cameras(session, key.id)),
        valid_from=key.valid_from,
        valid_until=key.valid_until,
        quota_s=key.quota_s,
        used_s=used_s(session, key.id),
        created_by=key.created_by,
        created_at=key.created_at,
        revoked_by=key.revoked_by,
        revoked_at=key.revoked_at,
        approved_by=key.approved_by,
        approved_at=key.approved_at,
    )


def find_organisation(session: Session, name: str) -> OrganisationRow:
    row = session.scalar(select(OrganisationRow).where(OrganisationRow.name == name))
    if row is None:
        raise NotFound(f"no organisation named {name!r}", organisation=name)
    return row


class Partners:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db
        self.grants = KeyGrants(access)  # what a key lets its holder do, checked as used

    def register(
        self, ctx: RequestContext, name: str, title: str, purpose: str
    ) -> OrganisationInfo:
        """A new organisation; ``title`` is how its watermark names it."""
        target = f"organisation:{name}"
        action = "organisation.register"
        with self.access.attempt(ctx, P.PARTNERS_MANAGE, action, target):
            check_name(name, what="organisation name")
            if not title.strip() or not purpose.strip():
                raise InvalidInput("an organisation needs a title and the purpose of its access")
            check_text(title, what="title", max_chars=MAX_TITLE)
            check_text(purpose, what="purpose", max_chars=MAX_PURPOSE)
            with self.db.write() as session:
                if session.scalar(select(OrganisationRow).where(OrganisationRow.name == name)):
                    raise Conflict(f"organisation {name!r} exists already", organisation=name)
                row = OrganisationRow(
                    name=name,
                    title=title.strip(),
                    purpose=purpose,
                    created_by=ctx.principal.name,
                    created_at=datetime.now(UTC),
                )
                session.add(row)
                session.flush()
                info = OrganisationInfo(
                    row.id, name, row.title, purpose, row.created_by, row.created_at, []
                )
                details = {"title": row.title, "purpose": purpose}
                self.access.record(session, ctx, action, target, details)
                return info

    def issue(self, ctx: RequestContext, organisation: str, spec: KeySpec) -> tuple[KeyInfo, str]:
        """A new key, which works once a supervisor of its cameras' groups approves it
        (``approve``); its secret is returned here and never again."""
        target = f"organisation:{organisation}"
        action = "partner_key.issue"
        with self.access.attempt(ctx, P.PARTNERS_MANAGE, action, target):
            spec.check()
            secret = new_secret(KEY_PREFIX)
            with self.db.write() as session:
                org = find_organisation(session, organisation)
                cameras = [find_visible(session, ctx, name) for name in dict.fromkeys(spec.cameras)]
                key = PartnerKeyRow(
                    organisation_id=org.id,
                    secret_hash=secret_hash(secret),
                    label=spec.label,
                    valid_from=spec.valid_from,
                    valid_until=spec.valid_until,
                    quota_s=spec.quota_s,
                    created_by=ctx.principal.name,
                    created_at=datetime.now(UTC),
                )
                session.add(key)
                session.flush()
                session.add_all(PartnerKeyCamera(key_id=key.id, camera_id=c.id) for c in cameras)
                session.flush()
                info = _key_info(session, key, org.name)
                details = {k: v for k, v in info.to_dict().items() if k != "status"}
                self.access.record(session, ctx, action, target, details)
                return info, secret

    def approve(self, ctx: RequestContext, key_id: int) -> KeyInfo:
        """Approve another person's key: a supervisor of every one of its cameras' groups
        (a key reaching a camera outside them is answered as not there)."""
        return self._decide(ctx, key_id, "partner_key.approve")

    def revoke(self, ctx: RequestContext, key_id: int) -> KeyInfo:
        """Revoke a key (an admin, or a supervisor of its cameras' groups); its open streams
        end within seconds."""
        return self._decide(ctx, key_id, "partner_key.revoke")

    def _decide(self, ctx: RequestContext, key_id: int, action: str) -> KeyInfo:
        target = f"partner_key:{key_id}"
        approving = action == "partner_key.approve"
        with self.access.attempt(ctx, None, action, target), self.db.write() as session:
            manager = not approving and ctx.principal.can(P.PARTNERS_MANAGE)
            if not (manager or ctx.principal.can(P.PARTNERS_APPROVE)):
                needs = "partners.approve" if approving else "partners.manage or partners.approve"
                raise Forbidden(f"{ctx.principal.name} may not {action} (needs {needs})")
            key = session.get(PartnerKeyRow, key_id)
            if key is None or not (manager or self._supervises(session, ctx, key_id)):
                raise NotFound(f"no key {key_id}", key=key_id)
            if key.revoked_at is not None:
                raise Conflict(f"key {key_id} was revoked", key=key_id)
            now = datetime.now(UTC)
            if approving:
                if key.approved_at is not None:
                    raise Conflict(f"key {key_id} is approved already", key=key_id)
                if key.created_by == ctx.principal.name:
                    raise Forbidden("nobody approves a key they issued")
                key.approved_by, key.approved_at = ctx.principal.name, now
            else:
                key.revoked_by, key.revoked_at = ctx.principal.name, now
            organisation = session.get_one(OrganisationRow, key.organisation_id).name
            self.access.record(session, ctx, action, target, {"organisation": organisation})
            return _key_info(session, key, organisation)

    @staticmethod
    def _supervises(session: Session, ctx: RequestContext, key_id: int) -> bool:
        """Whether the caller is in the group of every camera the key reaches."""
        groups = session.scalars(
            select(Camera.group_id)
            .join(PartnerKeyCamera, PartnerKeyCamera.camera_id == Camera.id)
            .where(PartnerKeyCamera.key_id == key_id)
        )
        return all(member_of(session, ctx.principal, group) for group in set(groups))

    def list(self, ctx: RequestContext) -> builtins.list[OrganisationInfo]:
        """Every organisation with its keys (admins; auditors read them too)."""
        action = "organisation.list"
        with self.access.reading(ctx, None, action, "organisations") as (session, details):
            self.require_reader(ctx, action)
            found = []
            for org in session.scalars(select(OrganisationRow).order_by(OrganisationRow.name)):
                keys = session.scalars(
                    select(PartnerKeyRow)
                    .where(PartnerKeyRow.organisation_id == org.id)
                    .order_by(PartnerKeyRow.id)
                )
                found.append(
                    OrganisationInfo(
                        org.id,
                        org.name,
                        org.title,
                        org.purpose,
                        org.created_by,
                        org.created_at,
                        [_key_info(session, k, org.name) for k in keys],
                    )
                )
            details["count"] = len(found)
        return found

    @staticmethod
    def require_reader(ctx: RequestContext, action: str) -> None:
        """Organisations and their usage: for those who manage them and for auditors."""
        if not (ctx.principal.can(P.PARTNERS_MANAGE) or ctx.principal.can(P.AUDIT_READ)):
            raise Forbidden(
                f"{ctx.principal.name} may not {action} (needs partners.manage or audit.read)"
            )
