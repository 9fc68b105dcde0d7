"""Erasure (GDPR Art. 17, LED Art. 16): the face crops and descriptors of the sightings an
answered subject request found, and a person confirmed as the requester's, are deleted,
except where a legal basis keeps them:

- an evidence hold on the camera over the sighting's time (``vigil camera hold``);
- a result confirmed in an open case;
- an alert on it for a watchlist entry still in force.

What is kept is listed with why (also in the requester's answer); the time and place of
each sighting stay, as recordings' index does, without anything biometric or where in
the footage the face was (its track's path, which an export of them alone follows). Audited.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.errors import Conflict
from vigil.store.models import (
    AlertRow,
    AlertSighting,
    CaseResult,
    CaseRow,
    EvidenceHold,
    SightingRow,
    SubjectMatch,
    WatchlistEntry,
)
from vigil.store.models.cases import OPEN_STATES
from vigil.subjects.requests import subject_request
from vigil.subjects.review import confirmed_only


@dataclass(frozen=True, slots=True)
class Erasure:
    request: int
    erased: builtins.list[int]  # sightings whose crop and descriptors were deleted
    kept: dict[int, str]  # sighting: why

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "erased": self.erased,
            "kept": [{"sighting": s, "why": why} for s, why in sorted(self.kept.items())],
        }


class SubjectErasure:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def erase(self, ctx: RequestContext, request_id: int) -> Erasure:
        """Erase what the answered request found, but what a legal basis keeps."""
        target = f"subject:{request_id}"
        with (
            self.access.attempt(ctx, Permission.SUBJECTS_HANDLE, "subject.erase", target),
            self.db.write() as session,
        ):
            row = subject_request(session, request_id)
            if row.state != "answered":
                raise Conflict(f"subject request {request_id} is {row.state}: nothing to erase")
            confirmed_only(session, request_id)
            now = datetime.now(UTC)
            matches = {
                m.sighting_id: m
                for m in session.scalars(
                    select(SubjectMatch).where(
                        SubjectMatch.request_id == request_id, SubjectMatch.verdict == "confirmed"
                    )
                )
            }
            kept = _kept(session, list(matches), now)
            erased = sorted(set(matches) - set(kept))
            session.execute(
                update(SightingRow)
                .where(SightingRow.id.in_(erased))
                .values(embedding=None, crop=None, path=None)
                .execution_options(synchronize_session=False)
            )
            for sighting, why in kept.items():
                matches[sighting].kept = why
            row.state, row.erased_by, row.erased_at = "erased", ctx.principal.name, now
            result = Erasure(request_id, erased, kept)
            self.access.record(session, ctx, "subject.erase", target, result.to_dict())
            return result


def _kept(session: Session, sightings: builtins.list[int], now: datetime) -> dict[int, str]:
    """Why each of these sightings must be kept, for those that must."""
    kept: dict[int, str] = {}
    held = session.execute(
        select(SightingRow.id, EvidenceHold.id)
        .join(
            EvidenceHold,
            and_(
                EvidenceHold.camera_id == SightingRow.camera_id,
                EvidenceHold.released_at.is_(None),
                EvidenceHold.start <= SightingRow.end,
                EvidenceHold.end >= SightingRow.start,
            ),
        )
        .where(SightingRow.id.in_(sightings))
    )
    for sighting, hold in held:
        kept.setdefault(sighting, f"under evidence hold {hold}")
    confirmed = session.scalars(
        select(CaseResult.sighting_id)
        .join(CaseRow, CaseRow.id == CaseResult.case_id)
        .where(
            CaseResult.sighting_id.in_(sightings),
            CaseResult.confirmed_by.is_not(None),
            CaseRow.state.in_(OPEN_STATES),
        )
    )
    for sighting in confirmed:
        kept.setdefault(sighting, "confirmed in an open investigation")
    alerted = session.scalars(
        select(SightingRow.id)
        .join(
            AlertRow,
            or_(
                AlertRow.sighting_id == SightingRow.id,
                AlertRow.id.in_(
                    select(AlertSighting.alert_id).where(
                        AlertSighting.sighting_id == SightingRow.id
                    )
                ),
            ),
        )
        .join(WatchlistEntry, WatchlistEntry.id == AlertRow.entry_id)
        .where(
            SightingRow.id.in_(sightings),
            WatchlistEntry.approved_at.is_not(None),
            WatchlistEntry.ended_at.is_(None),
            WatchlistEntry.expires_at > now,
        )
    )
    for sighting in alerted:
        kept.setdefault(sighting, "an alert of a watchlist entry in force")
    return kept
