"""No-identification zones: a camera group, or an event, where no face is analysed.

A protected assembly, a hospital's interior, a place of worship. An admin proposes the
mark (a group and a period, or an event's group and window) and a supervisor of that group
who did not propose it approves it; lifting it takes the same two steps. While a zone
holds, the analysis of those cameras' segments in that period detects, describes and keeps
no face (``covers`` decides the job's ``identify``, and the result is checked again when
it is stored), searches leave the period out (``excluded``), and people are still counted.
Every step is audited in the transaction that makes it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, true
from sqlalchemy.orm import Session

from vigil.analytics.expiry import KeptSighting, forget_in_zone
from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import Permission, RequestContext
from vigil.cameras.groups import member_of
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.store.models import Camera, CameraGroup, EventRow, NoIdZoneRow

P = Permission
MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    id: int
    group: str
    event: str | None
    start: datetime
    end: datetime | None
    reason: str
    proposed_by: str
    approved_by: str | None
    lift_proposed_by: str | None
    lifted_by: str | None
    # On approval: sightings of its period that lost crop and descriptor, and those kept.
    erased: int | None = None
    kept: tuple[KeptSighting, ...] = ()

    @property
    def status(self) -> str:
        if self.lifted_by is not None:
            return "lifted"
        if self.approved_by is None:
            return "awaiting approval"
        return "lift awaiting approval" if self.lift_proposed_by else "in force"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "event": self.event,
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "reason": self.reason,
            "proposed_by": self.proposed_by,
            "approved_by": self.approved_by,
            "lift_proposed_by": self.lift_proposed_by,
            "lifted_by": self.lifted_by,
            "status": self.status,
        } | (
            {}
            if self.erased is None
            else {"erased": self.erased, "kept": [k.to_dict() for k in self.kept]}
        )


def _info(session: Session, row: NoIdZoneRow) -> ZoneInfo:
    group = session.get_one(CameraGroup, row.group_id).name
    event = None if row.event_id is None else session.get(EventRow, row.event_id)
    return ZoneInfo(
        row.id, group, None if event is None else event.name, row.start, row.end, row.reason,
        row.proposed_by, row.approved_by, row.lift_proposed_by, row.lifted_by,
    )  # fmt: skip


def _in_force() -> ColumnElement[bool]:
    return and_(NoIdZoneRow.approved_at.is_not(None), NoIdZoneRow.lifted_at.is_(None))


def _reaching(camera_ids: Iterable[int], start: datetime, end: datetime) -> Select[int]:
    """The ids of the zones in force that reach any part of [start, end] of the cameras."""
    return (
        select(NoIdZoneRow.id)
        .join(Camera, Camera.group_id == NoIdZoneRow.group_id)
        .where(Camera.id.in_(list(camera_ids)), _in_force())
        .where(NoIdZoneRow.start <= end)
        .where(or_(NoIdZoneRow.end.is_(None), NoIdZoneRow.end >= start))
    )


def covering(
    session: Session, camera_ids: Iterable[int], start: datetime, end: datetime
) -> builtins.list[ZoneInfo]:
    """The zones in force that reach any part of [start, end] of one of the cameras."""
    ids = session.scalars(_reaching(camera_ids, start, end).distinct().order_by(NoIdZoneRow.id))
    return [_info(session, session.get_one(NoIdZoneRow, zone)) for zone in ids]


def covers(session: Session, camera_id: int, start: datetime, end: datetime) -> bool:
    """Whether a zone in force reaches any part of the camera's [start, end] (one query:
    every analysis job asks)."""
    return session.scalar(_reaching([camera_id], start, end).limit(1)) is not None


def excluded(
    session: Session, camera_column: Any, start_column: Any, end_column: Any
) -> ColumnElement[bool]:
    """A filter that leaves out rows (sightings) of a camera and time inside a zone in
    force: for searches, so that they never reach those periods."""
    zones = session.execute(
        select(NoIdZoneRow.group_id, NoIdZoneRow.start, NoIdZoneRow.end).where(_in_force())
    ).all()
    if not zones:
        return true()
    inside = []
    for group_id, start, end in zones:
        cameras = select(Camera.id).where(Camera.group_id == group_id)
        overlap = (
            end_column >= start if end is None else and_(end_column >= start, start_column <= end)
        )
        inside.append(and_(camera_column.in_(cameras), overlap))
    return ~or_(*inside)


class NoIdZones:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def propose(
        self,
        ctx: RequestContext,
        reason: str,
        *,
        group: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        event: str | None = None,
    ) -> ZoneInfo:
        """Propose marking a group over [start, end) (no end: until lifted), or an event's
        group over its window; a supervisor must approve it."""
        target = f"event:{event}" if event is not None else f"camera_group:{group}"
        action = "zone.propose"
        with self.access.attempt(ctx, P.ZONES_PROPOSE, action, target):
            if not reason.strip():
                raise InvalidInput("say why no one may be identified there", field="reason")
            check_text(reason, what="reason", max_chars=MAX_REASON)
            with self.db.write() as session:
                row = self._new(session, ctx, reason, group, start, end, event)
                session.add(row)
                session.flush()
                info = _info(session, row)
                self.access.record(session, ctx, action, target, info.to_dict())
                return info

    def _new(
        self,
        session: Session,
        ctx: RequestContext,
        reason: str,
        group: str | None,
        start: datetime | None,
        end: datetime | None,
        event: str | None,
    ) -> NoIdZoneRow:
        event_id = None
        if event is not None:
            found = session.scalar(select(EventRow).where(EventRow.name == event))
            if found is None:
                raise NotFound(f"no event named {event!r}", event=event)
            group_id, start, end, event_id = found.group_id, found.start, found.end, found.id
        else:
            if group is None or start is None:
                raise InvalidInput("name a camera group and when the zone starts")
            named = session.scalar(select(CameraGroup).where(CameraGroup.name == group))
            if named is None:
                raise NotFound(f"no camera group named {group!r}", group=group)
            group_id = named.id
        for t in (start, end):
            if t is not None and t.tzinfo is None:
                raise InvalidInput("times need a time zone, e.g. 2026-12-03T10:00Z")
        if end is not None and end <= start:
            raise InvalidInput("the zone must end after it starts", field="end")
        return NoIdZoneRow(
            group_id=group_id,
            event_id=event_id,
            start=start,
            end=end,
            reason=reason,
            proposed_by=ctx.principal.name,
            proposed_at=datetime.now(UTC),
        )

    def approve(self, ctx: RequestContext, zone_id: int) -> ZoneInfo:
        """Approve another person's proposal: from now on the zone holds, and the sightings
        already stored from its period lose crop and descriptor, but for those held as
        evidence, which the answer lists (``erased``, ``kept``)."""
        return self._step(ctx, zone_id, "zone.approve")

    def propose_lift(self, ctx: RequestContext, zone_id: int) -> ZoneInfo:
        return self._step(ctx, zone_id, "zone.lift.propose")

    def approve_lift(self, ctx: RequestContext, zone_id: int) -> ZoneInfo:
        """Approve another person's proposal to lift the zone: faces are analysed again."""
        return self._step(ctx, zone_id, "zone.lift.approve")

    def _step(self, ctx: RequestContext, zone_id: int, action: str) -> ZoneInfo:
        target = f"zone:{zone_id}"
        approving = action != "zone.lift.propose"
        needs = P.ZONES_APPROVE if approving else P.ZONES_PROPOSE
        with (
            self.access.attempt(ctx, needs, action, target),
            self.db.write() as session,
        ):
            row = session.get(NoIdZoneRow, zone_id)
            if row is None:
                raise NotFound(f"no zone {zone_id}", zone=zone_id)
            if approving and not member_of(session, ctx.principal, row.group_id):
                raise NotFound(f"no zone {zone_id}", zone=zone_id)  # outside one's groups
            now, me = datetime.now(UTC), ctx.principal.name
            if row.lifted_at is not None:
                raise Conflict(f"zone {zone_id} was lifted")
            if action == "zone.approve":
                if row.approved_at is not None:
                    raise Conflict(f"zone {zone_id} is in force already")
                if row.proposed_by == me:
                    raise Forbidden("nobody approves their own proposal")
                row.approved_by, row.approved_at = me, now
            elif action == "zone.lift.propose":
                if row.approved_at is None or row.lift_proposed_at is not None:
                    raise Conflict(f"zone {zone_id} is not in force, or its lifting is proposed")
                row.lift_proposed_by, row.lift_proposed_at = me, now
            else:
                if row.lift_proposed_at is None:
                    raise Conflict(f"nobody proposed lifting zone {zone_id}")
                if row.lift_proposed_by == me:
                    raise Forbidden("nobody approves their own proposal")
                row.lifted_by, row.lifted_at = me, now
            info = _info(session, row)
            details: dict[str, Any] = {"group": info.group}
            if action == "zone.approve":
                erased, kept = forget_in_zone(session, row.group_id, row.start, row.end)
                info = replace(info, erased=erased, kept=tuple(kept))
                details |= {"erased": erased, "kept": [k.sighting for k in kept]}
            self.access.record(session, ctx, action, target, details)
            return info

    def list(self, ctx: RequestContext) -> builtins.list[ZoneInfo]:
        """Zones proposed, in force and lifted: all of them for admins and auditors, those of
        their camera groups for supervisors."""
        action = "zone.list"
        with self.access.reading(ctx, None, action, "zones") as (session, details):
            if not any(
                ctx.principal.can(p) for p in (P.ZONES_PROPOSE, P.ZONES_APPROVE, P.AUDIT_READ)
            ):
                raise Forbidden(f"{ctx.principal.name} may not {action}")
            rows = session.scalars(select(NoIdZoneRow).order_by(NoIdZoneRow.id))
            every = ctx.principal.can(P.ZONES_PROPOSE) or ctx.principal.can(P.AUDIT_READ)
            found = [  # supervisors: those of their camera groups
                _info(session, row)
                for row in rows
                if every or member_of(session, ctx.principal, row.group_id)
            ]
            details["count"] = len(found)
        return found
