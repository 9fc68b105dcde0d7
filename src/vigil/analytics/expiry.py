"""Biometric data of people who matched nothing expires: crops and descriptors are erased.

A sighting keeps its time, place and quality (so coverage and counts stay true), but after
the retention period its face crop and descriptor are deleted unless an alert (a watchlist
match under review or reviewed) or an open case (a result of its searches) needs them. A
case's results follow the case: once it is closed, rejected or sealed, they expire too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update

from vigil.auth.access import Access
from vigil.auth.roles import SYSTEM, RequestContext
from vigil.investigations.cases import OPEN_STATES
from vigil.store.models import AlertSighting, CaseResult, CaseRow, SightingRow


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
