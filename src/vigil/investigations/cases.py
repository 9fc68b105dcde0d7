"""Cases: the only way to search by photo, opened by one person and approved by another.

A case names its subject, legal basis, reference and purpose, and a scope (cameras, time
window) that no search inside it can leave. It expires. Only its members (the requester,
the approver and those they add) see its searches and results; supervisors see every case's
record so that they can decide on it. An urgent case may be searched before approval, but
if nobody approves it in time (``cases.urgent_approval_h``, at most 48 h) or it is
rejected, it is sealed: its results are deleted (EU AI Act Art. 26(10)).

A case may take imported files as evidence (``imports``): their sightings belong to it
alone. Its record lists the no-identification zones that reach its scope; the approver
acknowledges by number those whose footage the case's exports may show unblurred.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import ROLE_PERMISSIONS, SYSTEM, Permission, RequestContext
from vigil.auth.users import find_user, parse_role
from vigil.cameras.registry import find_visible
from vigil.config import CasesConfig
from vigil.crowds.zones import ZoneInfo, covering
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.investigations.abuse import AbuseGuard
from vigil.investigations.membership import (
    acknowledged_zones,
    is_member,
    member_case,
    members,
    outside_groups,
    scope_cameras,
)
from vigil.store.models import Camera, CameraGroup, CaseCamera, CaseMember, CaseResult, CaseRow
from vigil.store.models.cases import OPEN_STATES

MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class CaseSpec:
    subject: str
    legal_basis: str
    reference: str
    purpose: str
    start: datetime
    end: datetime
    expires: datetime
    cameras: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    urgent: bool = False
    imports: bool = False  # files may be imported into it as evidence


@dataclass(frozen=True, slots=True)
class CaseInfo:
    id: int
    subject: str
    legal_basis: str
    reference: str
    purpose: str
    start: datetime
    end: datetime
    cameras: list[str]
    groups: list[str]
    expires_at: datetime
    urgent: bool
    state: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    members: list[str]
    imports: bool
    zones: list[ZoneInfo]  # no-identification zones in force that reach its scope
    zones_seen: list[int]  # those its approver acknowledged: exports show faces there

    def status(self, now: datetime) -> str:
        """The state, or ``expired`` for an open case past its expiry."""
        return "expired" if self.state in OPEN_STATES and self.expires_at <= now else self.state

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "subject": self.subject,
            "legal_basis": self.legal_basis,
            "reference": self.reference,
            "purpose": self.purpose,
            "from": iso(self.start),
            "to": iso(self.end),
            "cameras": self.cameras,
            "groups": self.groups,
            "expires_at": iso(self.expires_at),
            "urgent": self.urgent,
            "state": self.state,
            "status": self.status(datetime.now(UTC)),
            "requested_by": self.requested_by,
            "requested_at": iso(self.requested_at),
            "decided_by": self.decided_by,
            "decided_at": iso(self.decided_at),
            "members": self.members,
            "imports": self.imports,
            "zones": [z.to_dict() for z in self.zones],
            "zones_seen": self.zones_seen,
        }


def case_info(session: Session, row: CaseRow) -> CaseInfo:
    cameras = scope_cameras(session, row.id)
    return CaseInfo(
        id=row.id,
        subject=row.subject,
        legal_basis=row.legal_basis,
        reference=row.reference,
        purpose=row.purpose,
        start=row.scope_start,
        end=row.scope_end,
        cameras=[c.name for c in cameras],
        groups=json.loads(row.scope_groups),
        expires_at=row.expires_at,
        urgent=row.urgent,
        state=row.state,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        members=members(session, row.id),
        imports=row.imports,
        zones=covering(session, [c.id for c in cameras], row.scope_start, row.scope_end),
        zones_seen=json.loads(row.zones_seen),
    )


def searchable(row: CaseRow, config: CasesConfig, now: datetime) -> None:
    """Refuse unless the case is approved (or urgent, within its grace) and unexpired."""
    if row.state == "requested" and row.urgent:
        if now >= row.requested_at + timedelta(hours=config.urgent_approval_h):
            raise Forbidden(f"urgent case {row.id} was not approved in time", case=row.id)
    elif row.state != "approved":
        raise Forbidden(f"case {row.id} is {row.state}, not approved", case=row.id)
    if row.expires_at <= now:
        raise Forbidden(f"case {row.id} expired at {row.expires_at.isoformat()}", case=row.id)


def searched_database(cameras: list[str], start: datetime, end: datetime) -> dict[str, Any]:
    """The database a search or report used, as EU AI Act Art. 12(3) records it."""
    return {
        "store": "sightings",
        "cameras": cameras,
        "from": start.isoformat(),
        "to": end.isoformat(),
    }


def _check_texts(spec: CaseSpec) -> None:
    for value, what in (
        (spec.subject, "subject"),
        (spec.legal_basis, "legal basis"),
        (spec.reference, "reference"),
        (spec.purpose, "purpose"),
    ):
        if not value.strip():
            raise InvalidInput(f"the {what} must not be empty", field=what)
        check_text(value, what=what, max_chars=200 if what == "reference" else MAX_TEXT)


def _check_times(spec: CaseSpec, now: datetime, max_days: int) -> None:
    for value, what in ((spec.start, "--from"), (spec.end, "--to"), (spec.expires, "--expires")):
        if value.tzinfo is None:
            raise InvalidInput(f"{what} needs a time zone, e.g. 2026-11-23T10:00Z", field=what)
    if spec.start >= spec.end:
        raise InvalidInput("the scope's start must be before its end", field="from")
    if spec.end - spec.start > timedelta(days=max_days):
        raise InvalidInput(f"the scope may span at most {max_days} days", field="to")
    if not now < spec.expires <= now + timedelta(days=max_days):
        raise InvalidInput(
            f"the expiry must be in the future, within {max_days} days", field="expires"
        )


class CaseService:
    def __init__(self, access: Access, config: CasesConfig) -> None:
        self.access = access
        self.db = access.db
        self.config = config
        self.guard = AbuseGuard(access, config)
        # Told the id of each case approved, once the approval is stored.
        self.approved: builtins.list[Callable[[int], object]] = []

    def open(self, ctx: RequestContext, spec: CaseSpec) -> CaseInfo:
        with self.access.attempt(ctx, Permission.CASES_OPEN, "case.open", "cases"):
            now = datetime.now(UTC)
            _check_texts(spec)
            _check_times(spec, now, self.config.max_days)
            if bool(spec.cameras) == bool(spec.groups):
                raise InvalidInput("give the scope as cameras or as camera groups (one of them)")
            with self.db.write() as session:
                cameras = self._scope(session, ctx, spec)
                row = CaseRow(
                    subject=spec.subject,
                    legal_basis=spec.legal_basis,
                    reference=spec.reference,
                    purpose=spec.purpose,
                    scope_start=spec.start,
                    scope_end=spec.end,
                    scope_groups=json.dumps(sorted(set(spec.groups))),
                    expires_at=spec.expires,
                    urgent=spec.urgent,
                    imports=spec.imports,
                    state="requested",
                    requested_by=ctx.principal.name,
                    requested_at=now,
                )
                session.add(row)
                session.flush()
                session.add_all(CaseCamera(case_id=row.id, camera_id=c.id) for c in cameras)
                _add_member(session, row.id, ctx.principal.name, ctx.principal.name, now)
                info = case_info(session, row)
                details = {k: v for k, v in info.to_dict().items() if k != "status"}
                self.access.record(session, ctx, "case.open", f"case:{row.id}", details)
                self.guard.opened(session, ctx, row.id, now)
                return info

    def _scope(self, session: Session, ctx: RequestContext, spec: CaseSpec) -> list[Camera]:
        """The cameras named, or those of the groups named; all must be visible to the caller."""
        cameras = {name: find_visible(session, ctx, name) for name in spec.cameras}
        for group in spec.groups:
            row = session.scalar(select(CameraGroup).where(CameraGroup.name == group))
            if row is None:
                raise NotFound(f"no camera group named {group!r}", group=group)
            for camera in session.scalars(select(Camera).where(Camera.group_id == row.id)):
                cameras[camera.name] = find_visible(session, ctx, camera.name)
        if not cameras:
            raise InvalidInput("the scope holds no camera")
        return list(cameras.values())

    def approve(self, ctx: RequestContext, case_id: int, zones: Iterable[int] = ()) -> CaseInfo:
        """Approve the case. ``zones`` are the no-identification zones reaching its scope
        that the approver acknowledges by number (``show`` lists them): the case's exports
        of footage inside those show faces; inside any other zone, every face is blurred."""
        return self._decide(ctx, case_id, "approved", set(zones))

    def reject(self, ctx: RequestContext, case_id: int) -> CaseInfo:
        return self._decide(ctx, case_id, "rejected", set())

    def _decide(self, ctx: RequestContext, case_id: int, state: str, zones: set[int]) -> CaseInfo:
        action = "case.approve" if state == "approved" else "case.reject"
        target = f"case:{case_id}"
        with self.access.attempt(ctx, Permission.CASES_APPROVE, action, target):
            self.seal_overdue()
            with self.db.write() as session:
                row = session.get(CaseRow, case_id)
                if row is None:
                    raise NotFound(f"no case {case_id}", case=case_id)
                now = datetime.now(UTC)
                if row.state != "requested":
                    raise Conflict(f"case {case_id} is {row.state}, not awaiting a decision")
                if row.expires_at <= now:
                    raise Conflict(f"case {case_id} has expired")
                if row.requested_by == ctx.principal.name:
                    raise Forbidden("nobody approves or rejects their own case")
                row.state, row.decided_by, row.decided_at = state, ctx.principal.name, now
                details: dict[str, Any] = {"subject": row.subject, "reference": row.reference}
                if state == "approved":
                    _add_member(session, case_id, ctx.principal.name, ctx.principal.name, now)
                    seen = acknowledged_zones(session, row, zones)
                    row.zones_seen, details["zones_seen"] = json.dumps(seen), seen
                else:
                    details["results_deleted"] = _delete_results(session, case_id)
                    row.ended_at = now
                session.flush()
                self.access.record(session, ctx, action, target, details)
                info = case_info(session, row)
            if state == "approved":
                for told in self.approved:
                    told(case_id)
            return info

    def close(self, ctx: RequestContext, case_id: int) -> CaseInfo:
        """A member ends the case: no more searches; its record and results stay."""
        target = f"case:{case_id}"
        with (
            self.access.attempt(ctx, Permission.CASES_OPEN, "case.close", target),
            self.db.write() as session,
        ):
            row = member_case(session, ctx, case_id)
            if row.state not in OPEN_STATES:
                raise Conflict(f"case {case_id} is {row.state} already")
            row.state, row.ended_at = "closed", datetime.now(UTC)
            self.access.record(session, ctx, "case.close", target)
            return case_info(session, row)

    def add_member(self, ctx: RequestContext, case_id: int, username: str) -> CaseInfo:
        """A member adds a colleague who may search (an investigator) to the case."""
        target = f"case:{case_id}"
        with (
            self.access.attempt(ctx, Permission.CASES_SEARCH, "case.add_member", target),
            self.db.write() as session,
        ):
            row = member_case(session, ctx, case_id)
            user = find_user(session, username)
            if Permission.CASES_SEARCH not in ROLE_PERMISSIONS[parse_role(user.role)]:
                raise InvalidInput(f"{username} is a {user.role}, who may not search cases")
            if is_member(session, case_id, username):
                raise Conflict(f"{username} is a member of case {case_id} already")
            outside = outside_groups(session, user.id, case_id)
            if outside:
                raise InvalidInput(
                    f"{username} is not in the camera groups of {', '.join(outside)}, which "
                    "the case covers",
                    cameras=outside,
                )
            _add_member(session, case_id, username, ctx.principal.name, datetime.now(UTC))
            self.access.record(session, ctx, "case.add_member", target, {"member": username})
            return case_info(session, row)

    def list(self, ctx: RequestContext) -> builtins.list[CaseInfo]:
        """Supervisors see every case's record; others the cases they are members of."""
        self._require_any(ctx, "case.list", "cases")
        self.seal_overdue()
        with self.access.reading(ctx, None, "case.list", "cases") as (session, details):
            query = select(CaseRow).order_by(CaseRow.id)
            if not ctx.principal.can(Permission.CASES_APPROVE):
                query = query.join(CaseMember, CaseMember.case_id == CaseRow.id).where(
                    CaseMember.username == ctx.principal.name
                )
            cases = [case_info(session, row) for row in session.scalars(query)]
            details["count"] = len(cases)
        return cases

    def show(self, ctx: RequestContext, case_id: int) -> CaseInfo:
        target = f"case:{case_id}"
        self._require_any(ctx, "case.read", target)
        self.seal_overdue()
        with self.access.reading(ctx, None, "case.read", target) as (session, _):
            if ctx.principal.can(Permission.CASES_APPROVE):
                row = session.get(CaseRow, case_id)
                if row is None:
                    raise NotFound(f"no case {case_id}", case=case_id)
            else:
                row = member_case(session, ctx, case_id)
            return case_info(session, row)

    def _require_any(self, ctx: RequestContext, action: str, target: str) -> None:
        if not (
            ctx.principal.can(Permission.CASES_OPEN) or ctx.principal.can(Permission.CASES_APPROVE)
        ):
            self.access.require(ctx, Permission.CASES_OPEN, action, target)

    def seal_overdue(self, now: datetime | None = None) -> int:
        """Seal urgent cases not approved in time: delete their results (audited as system)."""
        now = now or datetime.now(UTC)
        deadline = now - timedelta(hours=self.config.urgent_approval_h)
        query = select(CaseRow).where(
            CaseRow.urgent.is_(True),
            CaseRow.state == "requested",
            CaseRow.requested_at <= deadline,
        )
        with self.db.read() as session:  # the common case: nothing to seal, no write lock
            if session.scalar(query.with_only_columns(CaseRow.id).limit(1)) is None:
                return 0
        with self.db.write() as session:
            overdue = list(session.scalars(query))
            for row in overdue:
                row.state, row.ended_at = "sealed", now
                deleted = _delete_results(session, row.id)
                ctx = RequestContext(SYSTEM, uuid.uuid4().hex, "urgent-case-deadline")
                details = {
                    "reason": f"not approved within {self.config.urgent_approval_h:g} hours",
                    "results_deleted": deleted,
                }
                self.access.record(session, ctx, "case.seal", f"case:{row.id}", details)
        return len(overdue)


def _add_member(session: Session, case_id: int, username: str, by: str, now: datetime) -> None:
    session.add(CaseMember(case_id=case_id, username=username, added_by=by, added_at=now))
    session.flush()


def _delete_results(session: Session, case_id: int) -> int:
    deleted = session.execute(delete(CaseResult).where(CaseResult.case_id == case_id))
    return int(getattr(deleted, "rowcount", 0) or 0)
