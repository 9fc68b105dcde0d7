"""A person judges what a subject request's comparison found before anything is answered.

The comparison runs at the calibrated operating point, and a false match there would tell
the requester of someone else's sighting, and have it erased as theirs. So, as a case's
movement report holds only the results people confirmed, the answer and the erasure hold
only the sightings the data-protection officer confirmed as the requester (who stands
before them with the photos): one review per request, and what is not confirmed is
rejected. Each found sighting's face crop is shown for it with every other face blurred,
and whether it is within the match point or only possible (beyond it, weaker evidence:
``archive.POSSIBLE``), with its false-match estimate.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.store.models import Camera, SightingRow, SubjectMatch
from vigil.subjects.requests import subject_request


@dataclass(frozen=True, slots=True)
class Found:
    """A sighting the comparison found, with what a person made of it."""

    sighting: int
    camera: str
    start: datetime
    end: datetime
    estimated_fmr: float
    match: bool  # within the match point; else only possible, for a person to judge
    verdict: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sighting": self.sighting,
            "camera": self.camera,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "estimated_fmr": self.estimated_fmr,
            "match": self.match,
            "verdict": self.verdict,
        }


class SubjectReview:
    def __init__(self, access: Access) -> None:
        self.access = access
        self.db = access.db

    def found(self, ctx: RequestContext, request_id: int) -> builtins.list[Found]:
        """What the answered request's comparison found, best first (audited)."""
        target = f"subject:{request_id}"
        permission = Permission.SUBJECTS_HANDLE
        with self.access.reading(ctx, permission, "subject.found", target) as (session, details):
            _answered(session, request_id)
            found = found_of(session, request_id)
            details["sightings"] = [f.sighting for f in found]
        return found

    def review(
        self, ctx: RequestContext, request_id: int, confirmed: builtins.list[int]
    ) -> builtins.list[Found]:
        """Confirm those found sightings as the requester's; every other one is rejected."""
        target = f"subject:{request_id}"
        with (
            self.access.attempt(ctx, Permission.SUBJECTS_HANDLE, "subject.review", target),
            self.db.write() as session,
        ):
            _answered(session, request_id)
            matches = {
                m.sighting_id: m
                for m in session.scalars(
                    select(SubjectMatch).where(SubjectMatch.request_id == request_id)
                )
            }
            if any(m.verdict is not None for m in matches.values()):
                raise Conflict(f"subject request {request_id} was reviewed already")
            unknown = sorted(set(confirmed) - set(matches))
            if unknown:
                raise InvalidInput(
                    f"sightings {unknown} were not found for request {request_id}",
                    field="confirmed",
                )
            for sighting, match in matches.items():
                match.verdict = "confirmed" if sighting in confirmed else "rejected"
                match.reviewed_by = ctx.principal.name
            session.flush()
            kept = sorted(set(confirmed))
            rejected = sorted(set(matches) - set(kept))
            details = {"request": request_id, "confirmed": kept, "rejected": rejected}
            self.access.record(session, ctx, "subject.review", target, details)
            return found_of(session, request_id)


def _answered(session: Session, request_id: int) -> None:
    row = subject_request(session, request_id)
    if row.state not in ("answered", "erased"):
        raise Conflict(f"subject request {request_id} is {row.state}: nothing was found yet")


def found_of(session: Session, request_id: int) -> builtins.list[Found]:
    rows = session.execute(
        select(SubjectMatch, SightingRow.start, SightingRow.end, Camera.name)
        .join(SightingRow, SightingRow.id == SubjectMatch.sighting_id)
        .join(Camera, Camera.id == SightingRow.camera_id)
        .where(SubjectMatch.request_id == request_id)
        .order_by(SubjectMatch.distance)
    )
    return [
        Found(
            m.sighting_id,
            camera,
            start,
            end,
            m.estimated_fmr,
            m.match,
            m.verdict,
        )
        for m, start, end, camera in rows
    ]


def confirmed_only(session: Session, request_id: int) -> None:
    """Conflict while found sightings of the request await a person's review."""
    waiting = session.scalars(
        select(SubjectMatch.sighting_id).where(
            SubjectMatch.request_id == request_id, SubjectMatch.verdict.is_(None)
        )
    ).all()
    if waiting:
        raise Conflict(
            f"{len(waiting)} sighting(s) found for subject request {request_id} await a "
            "person's review first (vigil subject review)",
            sightings=list(waiting),
        )


def ensure_found(session: Session, request_id: int, sighting_id: int) -> None:
    known = session.scalar(
        select(SubjectMatch.id).where(
            SubjectMatch.request_id == request_id, SubjectMatch.sighting_id == sighting_id
        )
    )
    if known is None:
        raise NotFound(f"sighting {sighting_id} was not found for subject request {request_id}")
