"""Biometric data of people who matched nothing expires: crops and descriptors are erased.

A sighting keeps its time, place and quality (so coverage and counts stay true), but after
the retention period its face crop and descriptor are deleted unless an alert (a watchlist
match under review or reviewed) or an open case (a result of its searches) needs them. A
case's results follow the case: once it is closed, rejected or sealed, they expire too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, and_, delete, exists, or_, select, true, update
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import SYSTEM, RequestContext
from vigil.store.models import (
    AlertRow,
    AlertSighting,
    Camera,
    CaseResult,
    CaseRow,
    EvidenceHold,
    SightingRow,
)
from vigil.store.models.cases import OPEN_STATES


def expire_biometrics(access: Access, retention: timedelta, now: datetime | None = None) -> int:
    """Erase expired crops and descriptors; returns how many sightings lost them (audited)."""
    cutoff = (now or datetime.now(UTC)) - retention
    matched = select(AlertSighting.sighting_id)
    in_case = (
        select(CaseResult.sighting_id)
        .join(CaseRow, CaseRow.id == CaseResult.case_id)
        .where(CaseRow.state.in_(OPEN_STATES))
    )
    with access.db.write() as session:
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(SightingRow)
            .where(
                SightingRow.end < cutoff,
                SightingRow.embedding.is_not(None),
                SightingRow.id.not_in(matched),
                SightingRow.id.not_in(in_case),
            )
            .values(embedding=None, crop=None)
            .execution_options(synchronize_session=False)
        )
        erased = result.rowcount
        if erased:
            ctx = RequestContext(SYSTEM, uuid.uuid4().hex, "retention")
            details = {"sightings": erased, "ended_before": cutoff.isoformat()}
            access.record(session, ctx, "biometrics.expire", "sightings", details)
    return int(erased or 0)


@dataclass(frozen=True, slots=True)
class KeptSighting:
    """A sighting inside a zone's period kept as evidence, and why."""

    sighting: int
    camera: str
    start: datetime
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "sighting": self.sighting,
            "camera": self.camera,
            "start": self.start.isoformat(),
            "why": self.why,
        }


def forget_in_zone(
    session: Session, group_id: int, start: datetime, end: datetime | None
) -> tuple[int, list[KeptSighting]]:
    """Erase the crops and descriptors of the group's sightings in [start, end] (no end:
    from start on), in the caller's transaction; pending alerts on them go too. Returns how
    many were erased, and those kept as evidence with the reason for each."""
    cameras = select(Camera.id).where(Camera.group_id == group_id)
    inside = and_(
        SightingRow.camera_id.in_(cameras),
        SightingRow.end >= start,
        true() if end is None else SightingRow.start <= end,
        or_(SightingRow.embedding.is_not(None), SightingRow.crop.is_not(None)),
    )
    reasons = _evidence()
    kept = [
        KeptSighting(sighting, camera, begun, why)
        for why, rule in reasons.items()
        for sighting, camera, begun in session.execute(
            select(SightingRow.id, Camera.name, SightingRow.start)
            .join(Camera, Camera.id == SightingRow.camera_id)
            .where(inside, rule)
            .order_by(SightingRow.start)
        )
    ]
    erasable = and_(inside, *(~rule for rule in reasons.values()))
    erased = list(session.scalars(select(SightingRow.id).where(erasable)))
    if erased:
        session.execute(
            delete(AlertRow).where(AlertRow.state == "pending", AlertRow.sighting_id.in_(erased))
        )
        session.execute(
            update(SightingRow)
            .where(SightingRow.id.in_(erased))
            .values(embedding=None, crop=None)
            .execution_options(synchronize_session=False)
        )
    first: dict[int, KeptSighting] = {}
    for found in kept:
        first.setdefault(found.sighting, found)
    return len(erased), sorted(first.values(), key=lambda k: (k.start, k.sighting))


def _evidence() -> dict[str, ColumnElement[bool]]:
    """What keeps a sighting inside a zone's period: each rule, by the reason it gives."""
    held = exists().where(
        EvidenceHold.camera_id == SightingRow.camera_id,
        EvidenceHold.released_at.is_(None),
        EvidenceHold.start <= SightingRow.end,
        EvidenceHold.end >= SightingRow.start,
    )
    confirmed = select(CaseResult.sighting_id).join(CaseRow, CaseRow.id == CaseResult.case_id)
    confirmed = confirmed.where(
        CaseRow.state.in_(OPEN_STATES), CaseResult.confirmed_by.is_not(None)
    )
    reviewed = (
        select(AlertSighting.sighting_id)
        .join(AlertRow, AlertRow.id == AlertSighting.alert_id)
        .where(AlertRow.state.in_(("confirmed", "actionable")))
    )
    return {
        "an evidence hold": held,
        "a confirmed result of an open case": SightingRow.id.in_(confirmed),
        "a confirmed alert": SightingRow.id.in_(reviewed),
    }
