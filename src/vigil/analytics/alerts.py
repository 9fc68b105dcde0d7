"""Alert review: a match is only a lead until two different people confirm it.

pending -> confirmed (one person) -> actionable (a second, different person); or, at
either step, rejected as a false match, which is counted and kept on record. A reviewer
sees, follows and reviews only the alerts of cameras in their camera groups; others are
not found.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from vigil.auth.access import Access
from vigil.auth.roles import Permission, Principal, RequestContext
from vigil.cameras.groups import in_groups_of
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.store.models import (
    AlertRow,
    AlertSighting,
    Camera,
    CameraGroup,
    SightingRow,
    WatchlistEntry,
    WatchlistPhoto,
)

STATES = ("pending", "confirmed", "actionable", "rejected")


@dataclass(frozen=True, slots=True)
class AlertInfo:
    id: int
    entry_id: int
    label: str
    camera: str
    sighting_id: int | None
    seen_at: datetime
    last_seen_at: datetime
    sightings: int  # its first and those merged into it
    similarity: float
    distance: float
    estimated_fmr: float | None
    state: str
    confirmed_by: str | None
    second_by: str | None
    rejected_by: str | None
    group: str | None = None  # the camera's group: whose operators may see it

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entry_id": self.entry_id,
            "label": self.label,
            "camera": self.camera,
            "group": self.group,
            "sighting_id": self.sighting_id,
            "seen_at": self.seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "sightings": self.sightings,
            "similarity": round(self.similarity, 4),
            "distance": round(self.distance, 4),
            "estimated_fmr": self.estimated_fmr,
            "state": self.state,
            "confirmed_by": self.confirmed_by,
            "second_by": self.second_by,
            "rejected_by": self.rejected_by,
        }


def _info(
    row: AlertRow, label: str, camera: str, sightings: int, group: str | None = None
) -> AlertInfo:
    return AlertInfo(
        row.id,
        row.entry_id,
        label,
        camera,
        row.sighting_id,
        row.seen_at,
        row.last_seen_at or row.seen_at,
        sightings,
        row.similarity,
        row.distance,
        row.estimated_fmr,
        row.state,
        row.confirmed_by,
        row.second_by,
        row.rejected_by,
        group,
    )


_MERGED = (
    select(func.count(AlertSighting.sighting_id))
    .where(AlertSighting.alert_id == AlertRow.id)
    .scalar_subquery()
)
_JOINED = (
    select(AlertRow, WatchlistEntry.label, Camera.name, _MERGED, CameraGroup.name)
    .join(WatchlistEntry, WatchlistEntry.id == AlertRow.entry_id)
    .join(Camera, Camera.id == AlertRow.camera_id)
    .outerjoin(CameraGroup, CameraGroup.id == Camera.group_id)
)


class AlertService:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def list(self, ctx: RequestContext, state: str | None = None) -> tuple[list[AlertInfo], int]:
        """Alerts (newest first), and how many were rejected as false matches in all."""
        if state is not None and state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}")
        reading = self.access.reading(ctx, Permission.ALERTS_REVIEW, "alert.list", "alerts")
        with reading as (session, details):
            mine = in_groups_of(session, ctx.principal)
            query = _JOINED.where(mine).order_by(AlertRow.id.desc())
            if state is not None:
                query = query.where(AlertRow.state == state)
            alerts = [_info(*found) for found in session.execute(query)]
            rejected = session.scalar(
                select(func.count(AlertRow.id))
                .join(Camera, Camera.id == AlertRow.camera_id)
                .where(AlertRow.state == "rejected", mine)
            )
            details.update({"state": state, "count": len(alerts)})
        return alerts, int(rejected or 0)

    def image(self, ctx: RequestContext, alert_id: int, which: str) -> bytes:
        """The sighting's face crop or the entry's reference face, for the reviewer (audited)."""
        target = f"alert:{alert_id}"
        reading = self.access.reading(ctx, Permission.ALERTS_REVIEW, "alert.image", target)
        with reading as (session, details):
            alert = session.scalar(
                select(AlertRow)
                .join(Camera, Camera.id == AlertRow.camera_id)
                .where(AlertRow.id == alert_id, in_groups_of(session, ctx.principal))
            )
            if alert is None:
                raise NotFound(f"no alert {alert_id}", alert=alert_id)
            if which == "sighting":
                query = select(SightingRow.crop).where(SightingRow.id == alert.sighting_id)
            else:
                query = (
                    select(WatchlistPhoto.crop)
                    .where(WatchlistPhoto.entry_id == alert.entry_id)
                    .order_by(WatchlistPhoto.id)
                    .limit(1)
                )
            data = session.scalar(query)
            if not data:
                raise NotFound(f"alert {alert_id} has no {which} image (it may have expired)")
            details["image"] = which
        return data

    def watch(self, ctx: RequestContext) -> int:
        """Start following new alerts (audited once): the id after which they are new."""
        with self.access.attempt(ctx, Permission.ALERTS_REVIEW, "alert.watch", "alerts"):
            newest = self.newest()
        self.access.record_alone(ctx, "alert.watch", "alerts")
        return newest

    def newest(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.max(AlertRow.id))) or 0)

    def since(self, after_id: int, follower: Principal | None = None) -> builtins.list[AlertInfo]:
        """Alerts raised after that id, oldest first: for a follower started by ``watch``
        (those of its camera groups, as they are at each call), or for Vigil's own event
        publisher (``None``: all)."""
        with self.db.read() as session:
            query = _JOINED.where(AlertRow.id > after_id)
            if follower is not None:
                query = query.where(in_groups_of(session, follower))
            rows = session.execute(query.order_by(AlertRow.id).limit(100))
            return [_info(*found) for found in rows]

    def confirm(self, ctx: RequestContext, alert_id: int) -> AlertInfo:
        return self._review(ctx, alert_id, confirm=True)

    def reject(self, ctx: RequestContext, alert_id: int) -> AlertInfo:
        return self._review(ctx, alert_id, confirm=False)

    def _review(self, ctx: RequestContext, alert_id: int, *, confirm: bool) -> AlertInfo:
        action = "alert.confirm" if confirm else "alert.reject"
        target = f"alert:{alert_id}"
        with (
            self.access.attempt(ctx, Permission.ALERTS_REVIEW, action, target),
            self.db.write() as session,
        ):
            found = session.execute(
                _JOINED.where(AlertRow.id == alert_id, in_groups_of(session, ctx.principal))
            ).one_or_none()
            if found is None:
                raise NotFound(f"no alert {alert_id}", alert=alert_id)
            row, label, camera, merged, group = found
            before = row.state
            now = datetime.now(UTC)
            me = ctx.principal.name
            if before in ("actionable", "rejected"):
                raise Conflict(f"alert {alert_id} is {before} already", state=before)
            if not confirm:
                row.state, row.rejected_by, row.rejected_at = "rejected", me, now
            elif before == "pending":
                row.state, row.confirmed_by, row.confirmed_at = "confirmed", me, now
            elif row.confirmed_by == me:
                raise Conflict(
                    f"you confirmed alert {alert_id} already; a second, different person must"
                )
            else:
                row.state, row.second_by, row.second_at = "actionable", me, now
            details = {"from": before, "to": row.state, "entry": row.entry_id}
            self.access.record(session, ctx, action, target, details)
            return _info(row, label, camera, merged, group)
