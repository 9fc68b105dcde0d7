"""Events: a camera group over a time window, how many people are where, and when a place
is over its limit.

An event's cameras are its group's. Its limits are per camera and, for the whole event, a
total. The counts come from the segments' analysis (``crowds.counting``), one every few
seconds per camera; the event shows them per camera and in total, as now and over time
(``BUCKET_S`` apart), with the peak. When a count goes over a limit, an occupancy alert is
raised in the transaction that stores the count: it names the place and the number, never
a person, and it reaches the alert streams (SSE, MQTT) like the face alerts do.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import Permission, Principal, RequestContext
from vigil.cameras.groups import group_ids_of, member_of
from vigil.crowds.counting import Count
from vigil.crowds.walls import WallSittings
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.store.models import (
    Camera,
    CameraGroup,
    EventLimit,
    EventRow,
    OccupancyAlertRow,
    PeopleCount,
)

P = Permission
BUCKET_S = 5  # the charts' resolution
FRESH = timedelta(seconds=60)  # a camera's last count older than this is not "now"
MAX_WINDOW = timedelta(days=31)
MAX_POINTS = 2000  # per chart: longer events are shown in wider buckets


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: str
    group: str
    start: datetime
    end: datetime
    limits: dict[str, int] = field(default_factory=dict)  # camera: people
    total_limit: int | None = None

    def check(self) -> None:
        check_text(self.name, what="event name", max_chars=128)
        if not self.name.strip():
            raise InvalidInput("an event needs a name", field="name")
        for t in (self.start, self.end):
            if t.tzinfo is None:
                raise InvalidInput("times need a time zone, e.g. 2026-12-03T10:00Z")
        if not self.start < self.end <= self.start + MAX_WINDOW:
            raise InvalidInput("an event ends after it starts, within 31 days", field="end")
        limits = [*self.limits.values(), *([self.total_limit] if self.total_limit else [])]
        if any(not 1 <= n <= 1_000_000 for n in limits):
            raise InvalidInput("limits are 1 to 1,000,000 people", field="limits")


@dataclass(frozen=True, slots=True)
class OccupancyInfo:
    id: int
    event: str
    place: str
    people: int
    limit: int
    at: datetime
    group: str | None = None  # the event's camera group: whose staff may see it

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": "occupancy",
            "event": self.event,
            "group": self.group,
            "place": self.place,
            "people": self.people,
            "limit": self.limit,
            "at": self.at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class EventInfo:
    id: int
    name: str
    group: str
    start: datetime
    end: datetime
    limits: dict[str, int]
    total_limit: int | None
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "group": self.group,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "limits": self.limits,
            "total_limit": self.total_limit,
            "created_by": self.created_by,
        }


def _event_info(session: Session, row: EventRow) -> EventInfo:
    limits = session.execute(
        select(Camera.name, EventLimit.people)
        .join(EventLimit, EventLimit.camera_id == Camera.id)
        .where(EventLimit.event_id == row.id)
    )
    group = session.get_one(CameraGroup, row.group_id).name
    return EventInfo(
        row.id, row.name, group, row.start, row.end,
        {str(name): int(n) for name, n in limits}, row.total_limit, row.created_by,
    )  # fmt: skip


def _occupancy(row: OccupancyAlertRow, event: str, group: str | None = None) -> OccupancyInfo:
    return OccupancyInfo(row.id, event, row.place, row.people, row.limit, row.at, group)


def _latest(session: Session, camera_id: int, before: datetime) -> int | None:
    """The camera's last count before that moment (within FRESH), if any."""
    return session.scalar(
        select(PeopleCount.people)
        .where(PeopleCount.camera_id == camera_id)
        .where(PeopleCount.at < before, PeopleCount.at >= before - FRESH)
        .order_by(PeopleCount.at.desc())
        .limit(1)
    )


def raise_occupancy(session: Session, camera_id: int, counts: list[Count]) -> list[int]:
    """Occupancy alerts for the camera's new counts (not stored yet): each time one of its
    events' limits, for the camera or in total, is crossed upwards. Their ids."""
    if not counts:
        return []
    first = datetime.fromtimestamp(counts[0].at, UTC)
    last = datetime.fromtimestamp(counts[-1].at, UTC)
    camera = session.get_one(Camera, camera_id)
    events = session.scalars(
        select(EventRow)
        .where(EventRow.group_id == camera.group_id)
        .where(EventRow.start <= last, EventRow.end > first)
    )
    raised: list[int] = []
    for event in events:
        limit = session.scalar(
            select(EventLimit.people).where(
                EventLimit.event_id == event.id, EventLimit.camera_id == camera_id
            )
        )
        others = session.scalars(
            select(Camera.id).where(Camera.group_id == event.group_id, Camera.id != camera_id)
        ).all()
        before = _latest(session, camera_id, first) or 0
        before_total = before + sum(_latest(session, c, first) or 0 for c in others)
        for count in counts:
            at = datetime.fromtimestamp(count.at, UTC)
            if not event.start <= at < event.end:
                continue
            total = count.people + sum(_latest(session, c, at) or 0 for c in others)
            if limit is not None and before <= limit < count.people:
                raised.append(
                    _alert(session, event, camera_id, camera.name, count.people, limit, at)
                )
            if event.total_limit is not None and before_total <= event.total_limit < total:
                place = f"all cameras of {event.name}"
                raised.append(_alert(session, event, None, place, total, event.total_limit, at))
            before, before_total = count.people, total
    return raised


def _alert(
    session: Session,
    event: EventRow,
    camera_id: int | None,
    place: str,
    people: int,
    limit: int,
    at: datetime,
) -> int:
    row = OccupancyAlertRow(
        event_id=event.id, camera_id=camera_id, place=place, people=people, limit=limit, at=at
    )
    session.add(row)
    session.flush()
    return row.id


def store_counts(
    session: Session, camera_id: int, segment_id: int | None, counts: list[Count]
) -> list[int]:
    """Replace the segment's counts (a re-analysis), raise occupancy alerts, store the new
    ones; the alerts' ids."""
    if segment_id is not None:
        session.execute(delete(PeopleCount).where(PeopleCount.segment_id == segment_id))
    raised = raise_occupancy(session, camera_id, counts)
    session.add_all(
        PeopleCount(
            camera_id=camera_id,
            segment_id=segment_id,
            at=datetime.fromtimestamp(c.at, UTC),
            people=c.people,
        )
        for c in counts
    )
    return raised


def _may_see(session: Session, principal: Principal, group_id: int) -> bool:
    return principal.can(P.CAMERAS_MANAGE) or member_of(session, principal, group_id)


class Events:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db
        self.walls = WallSittings(access)

    def create(self, ctx: RequestContext, spec: EventSpec) -> EventInfo:
        target = f"event:{spec.name}"
        action = "event.create"
        with self.access.attempt(ctx, P.EVENTS_MANAGE, action, target):
            spec.check()
            with self.db.write() as session:
                group = session.scalar(select(CameraGroup).where(CameraGroup.name == spec.group))
                if group is None or not _may_see(session, ctx.principal, group.id):
                    raise NotFound(f"no camera group named {spec.group!r}", group=spec.group)
                if session.scalar(select(EventRow).where(EventRow.name == spec.name)):
                    raise Conflict(f"an event named {spec.name!r} exists already")
                row = EventRow(
                    name=spec.name, group_id=group.id, start=spec.start, end=spec.end,
                    total_limit=spec.total_limit, created_by=ctx.principal.name,
                    created_at=datetime.now(UTC),
                )  # fmt: skip
                session.add(row)
                session.flush()
                for camera, people in spec.limits.items():
                    found = session.scalar(
                        select(Camera).where(Camera.name == camera, Camera.group_id == group.id)
                    )
                    if found is None:
                        raise InvalidInput(f"camera {camera!r} is not in group {spec.group}")
                    session.add(EventLimit(event_id=row.id, camera_id=found.id, people=people))
                session.flush()
                info = _event_info(session, row)
                self.access.record(session, ctx, action, target, info.to_dict())
                return info

    def list(self, ctx: RequestContext) -> builtins.list[EventInfo]:
        """The events of the caller's camera groups (all of them for camera managers)."""
        with self.access.reading(ctx, P.CAMERAS_VIEW, "event.list", "events") as (session, details):
            rows = session.scalars(select(EventRow).order_by(EventRow.start.desc()))
            found = [
                _event_info(session, r)
                for r in rows
                if _may_see(session, ctx.principal, r.group_id)
            ]
            details["count"] = len(found)
        return found

    def show(self, ctx: RequestContext, event_id: int) -> dict[str, Any]:
        """The event now and over time: each camera's count and limit, the total, the peak,
        the charts' series and the occupancy alerts. Audited once per sitting at the wall
        (``crowds.walls``); a refusal is on record every time."""
        target = f"event:{event_id}"
        with (
            self.access.attempt(ctx, P.CAMERAS_VIEW, "event.show", target),
            self.db.read() as session,
        ):
            row = session.get(EventRow, event_id)
            if row is None or not _may_see(session, ctx.principal, row.group_id):
                raise NotFound(f"no event {event_id}", event=event_id)
            view = _view(session, row)
        self.walls.read(ctx, event_id)  # on record once per sitting (``walls``)
        return view

    def occupancy_since(
        self, after_id: int, follower: Principal | None = None
    ) -> builtins.list[OccupancyInfo]:
        """Occupancy alerts after that id, oldest first: of the follower's camera groups, or
        all (``None``: Vigil's own event publisher)."""
        with self.db.read() as session:
            query = (
                select(OccupancyAlertRow, EventRow.name, CameraGroup.name)
                .join(EventRow, EventRow.id == OccupancyAlertRow.event_id)
                .join(CameraGroup, CameraGroup.id == EventRow.group_id)
                .where(OccupancyAlertRow.id > after_id)
            )
            if follower is not None:
                query = query.where(EventRow.group_id.in_(group_ids_of(session, follower.user_id)))
            rows = session.execute(query.order_by(OccupancyAlertRow.id).limit(100))
            return [_occupancy(alert, name, group) for alert, name, group in rows]

    def newest_occupancy(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.max(OccupancyAlertRow.id))) or 0)


def _view(session: Session, row: EventRow) -> dict[str, Any]:
    info = _event_info(session, row)
    now = datetime.now(UTC)
    until = min(row.end, now)
    cameras = session.execute(
        select(Camera.id, Camera.name).where(Camera.group_id == row.group_id).order_by(Camera.name)
    ).all()
    span_s = max(0.0, (until - row.start).total_seconds())
    bucket = max(BUCKET_S, int(span_s / MAX_POINTS) + 1)
    points = session.execute(
        select(PeopleCount.camera_id, PeopleCount.at, PeopleCount.people)
        .where(PeopleCount.camera_id.in_([c for c, _ in cameras]))
        .where(and_(PeopleCount.at >= row.start, PeopleCount.at < until))
        .order_by(PeopleCount.at)
    ).all()
    series: dict[int, dict[int, int]] = defaultdict(dict)  # camera: bucket: last count
    latest: dict[int, tuple[datetime, int]] = {}  # camera: its last count in the event
    for camera_id, moment, people in points:
        series[camera_id][int((moment - row.start).total_seconds()) // bucket] = int(people)
        latest[camera_id] = (moment, int(people))
    buckets = sorted({b for s in series.values() for b in s})
    carried: dict[int, int] = {}
    total: list[tuple[int, int]] = []
    fresh_buckets = int(FRESH.total_seconds()) // bucket
    seen_at: dict[int, int] = {}
    for b in buckets:
        for camera_id, by_bucket in series.items():
            if b in by_bucket:
                carried[camera_id], seen_at[camera_id] = by_bucket[b], b
        total.append((b, sum(n for c, n in carried.items() if b - seen_at[c] <= fresh_buckets)))
    peak = max(total, key=lambda p: p[1], default=None)

    def when(b: int) -> str:
        return (row.start + timedelta(seconds=b * bucket)).isoformat()

    alerts = session.scalars(
        select(OccupancyAlertRow)
        .where(OccupancyAlertRow.event_id == row.id)
        .order_by(OccupancyAlertRow.id)
    )
    now_cameras = []
    for camera_id, name in cameras:
        last = latest.get(camera_id)
        fresh = last if last is not None and now - last[0] <= FRESH else None
        now_cameras.append({
            "name": name,
            "people": None if fresh is None else fresh[1],
            "at": None if fresh is None else fresh[0].isoformat(),
            "limit": info.limits.get(name),
            "peak": max(series[camera_id].values(), default=None),
            "series": [[when(b), n] for b, n in sorted(series[camera_id].items())],
        })  # fmt: skip
    current = [c["people"] for c in now_cameras if c["people"] is not None]
    return {
        **info.to_dict(),
        "bucket_s": bucket,
        "cameras": now_cameras,
        "total": {
            "people": sum(current) if current else None,
            "peak": None if peak is None else {"at": when(peak[0]), "people": peak[1]},
            "series": [[when(b), n] for b, n in total],
        },
        "alerts": [_occupancy(a, row.name).to_dict() for a in alerts],
    }
