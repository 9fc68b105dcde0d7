"""Subject requests: a person on camera learns what Vigil holds about them (GDPR Art. 15,
Law Enforcement Directive Art. 14), and has it erased where nothing keeps it (Art. 17).

A data-protection officer takes the request with the person's own photos, after checking
their identity (the checker is named); the photos are reduced to descriptors at once and
only their SHA-256 is kept. Another person approves it (or rejects it): only then is every
camera's archive compared with those descriptors (``compare``: at once, or where a process
serves people, in the background, ``comparing.py``: at 10 million sightings it reads for
minutes), and the sightings found (``archive.py``: within the match point, and the nearest
beyond it as possible) are kept with the request for a person to judge (``review``) and
then for its report (``report``). The match point alone missed a tenth of the held
appearances of people asking with a photo of another day (benchmarks/city_bench.py): a
request that leaves those out answers less than the law asks and erases less than it
should. The request is never a case search: its results go into the requester's report
alone, the approver sees none of them, and the descriptors are deleted once it is answered
or rejected.
"""

from __future__ import annotations

import builtins
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.analytics.matching import OperatingPoint
from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import SYSTEM, Permission, RequestContext
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.faces.engine import FaceEngine
from vigil.faces.photos import Photos
from vigil.faces.reference import reference_face
from vigil.store.models import SubjectMatch, SubjectRequestRow
from vigil.subjects.archive import Archive

MAX_PHOTOS = 5
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """A request's record: who took it, who decided, what was found (a count only)."""

    id: int
    reference: str
    identity_checked_by: str
    state: str
    requested_by: str
    requested_at: datetime
    probes: list[str]
    decided_by: str | None
    decided_at: datetime | None
    restricted: bool
    searched: int | None
    found: int
    unreviewed: int = 0  # found, and not yet judged by a person

    @classmethod
    def of(cls, row: SubjectRequestRow, found: int = 0, unreviewed: int = 0) -> RequestInfo:
        return cls(
            row.id,
            row.reference,
            row.identity_checked_by,
            row.state,
            row.requested_by,
            row.requested_at,
            json.loads(row.probes),
            row.decided_by,
            row.decided_at,
            row.restriction is not None,
            row.searched,
            found,
            unreviewed,
        )

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "reference": self.reference,
            "identity_checked_by": self.identity_checked_by,
            "state": self.state,
            "requested_by": self.requested_by,
            "requested_at": iso(self.requested_at),
            "probes": self.probes,
            "decided_by": self.decided_by,
            "decided_at": iso(self.decided_at),
            "restricted": self.restricted,
            "sightings_searched": self.searched,
            "sightings_found": self.found,
            "awaiting_review": self.unreviewed,
        }


class SubjectRequests:
    def __init__(
        self, access: Access, engine: FaceEngine, photos: Photos, point: OperatingPoint
    ) -> None:
        self.access = access
        self.db = access.db
        self.engine = engine
        self.photos = photos
        self.point = point
        self.archive = Archive(point)
        # Called with each request approved here: where one is set (the API), it compares
        # the request in the background (``comparing.py``); else ``approve`` compares it.
        self.approved: builtins.list[Callable[[int], None]] = []

    def open(
        self,
        ctx: RequestContext,
        photos: builtins.list[tuple[str, bytes]],
        *,
        reference: str,
        identity_checked_by: str,
    ) -> RequestInfo:
        """Take a request with the person's photos (1 to 5, each above the reference bar)."""
        with self.access.attempt(ctx, Permission.SUBJECTS_HANDLE, "subject.request", "subjects"):
            reference = check_text(reference.strip(), what="reference", max_chars=MAX_TEXT)
            checker = check_text(
                identity_checked_by.strip(), what="identity_checked_by", max_chars=MAX_TEXT
            )
            if not reference or not checker:
                raise InvalidInput(
                    "a request needs a reference and the name of who checked the person's identity",
                    field="identity_checked_by" if reference else "reference",
                )
            if not 1 <= len(photos) <= MAX_PHOTOS:
                raise InvalidInput(f"give 1 to {MAX_PHOTOS} photos of the person")
            with self.photos.working(ctx, len(photos)):
                probes = [
                    reference_face(self.engine, self.photos.limits, name, data)
                    for name, data in photos
                ]
            hashes = [p.sha256 for p in probes]
            with self.db.write() as session:
                row = SubjectRequestRow(
                    reference=reference,
                    identity_checked_by=checker,
                    state="requested",
                    requested_by=ctx.principal.name,
                    requested_at=datetime.now(UTC),
                    probes=json.dumps(hashes),
                    embedder=self.engine.model.tag,
                    descriptors=np.stack([p.descriptor for p in probes]).astype("<f4").tobytes(),
                )
                session.add(row)
                session.flush()
                details = {
                    "request": row.id,
                    "reference": reference,
                    "identity_checked_by": checker,
                    "probes": hashes,
                }
                self.access.record(session, ctx, "subject.request", f"subject:{row.id}", details)
                return RequestInfo.of(row)

    def list(self, ctx: RequestContext) -> builtins.list[RequestInfo]:
        with self.access.reading(ctx, None, "subject.list", "subjects") as (session, details):
            _may_see(ctx)
            rows = session.scalars(select(SubjectRequestRow).order_by(SubjectRequestRow.id))
            found = [RequestInfo.of(row, *tally(session, row.id)) for row in rows]
            details["count"] = len(found)
        return found

    def show(self, ctx: RequestContext, request_id: int) -> RequestInfo:
        target = f"subject:{request_id}"
        with self.access.reading(ctx, None, "subject.show", target) as (session, _):
            _may_see(ctx)
            row = subject_request(session, request_id)
            return RequestInfo.of(row, *tally(session, row.id))

    def approve(
        self, ctx: RequestContext, request_id: int, *, restriction: str | None = None
    ) -> RequestInfo:
        """Approve another person's request: every camera's sightings are then compared
        with its photos (``compare``), and what is found is kept for the requester's report
        alone.

        ``restriction``: a legal restriction of the watchlist part of the answer, recorded
        (and audited) here; the report then says only that one applies."""
        target = f"subject:{request_id}"
        with self.access.attempt(ctx, Permission.SUBJECTS_APPROVE, "subject.approve", target):
            if restriction is not None:
                restriction = check_text(restriction.strip(), what="restriction", max_chars=2000)
                if not restriction:
                    raise InvalidInput("a restriction needs its grounds", field="restriction")
            with self.db.write() as session:
                row = self._deciding(session, ctx, request_id)
                self.archive.probes(row)  # comparable with the archive, or Conflict now
                row.state, row.decided_by, row.decided_at = "comparing", ctx.principal.name, _now()
                row.restriction = restriction
                details = {
                    "request": row.id,
                    "reference": row.reference,
                    "restriction": restriction,
                }
                self.access.record(session, ctx, "subject.approve", target, details)
                if restriction is not None:  # counted apart in the transparency report
                    restricted = {"request": row.id, "restriction": restriction}
                    self.access.record(session, ctx, "subject.restrict", target, restricted)
        if not self.approved:
            return self.compare(request_id)
        for hook in self.approved:
            hook(request_id)
        with self.db.read() as session:  # answered by now, or still being compared
            return RequestInfo.of(subject_request(session, request_id), *tally(session, request_id))

    def compare(self, request_id: int) -> RequestInfo:
        """Compare an approved request's photos with every sighting held and with the
        watchlists' reference photos, keep what was found, and answer it (audited, as the
        system): Conflict unless the request is being compared."""
        target = f"subject:{request_id}"
        ctx = RequestContext(SYSTEM, uuid.uuid4().hex, "subject-comparison")
        with self.db.read() as session:  # the archive is read outside any write
            probes = self.archive.probes(_comparing(session, request_id))
            searched, matches = self.archive.sightings(session, probes)
            entries = self.archive.watchlist_entries(session, probes)
        with self.db.write() as session:
            row = _comparing(session, request_id)  # not compared meanwhile by another
            session.add_all(
                SubjectMatch(
                    request_id=row.id, sighting_id=s, distance=d, estimated_fmr=fmr, match=m
                )
                for s, d, fmr, m in matches
            )
            row.state, row.searched, row.descriptors = "answered", searched, None
            row.watchlist = json.dumps(entries)
            details = {
                "request": row.id,
                "sightings_searched": searched,
                "sightings_found": len(matches),
                "beyond_the_match_point": sum(not m for *_, m in matches),
                "watchlist_entries_found": len(entries),
            }
            self.access.record(session, ctx, "subject.compare", target, details)
            return RequestInfo.of(row, len(matches), len(matches))

    def comparing(self) -> builtins.list[int]:
        """The requests approved and not compared yet (a process that compared them
        stopped first)."""
        with self.db.read() as session:
            return builtins.list(
                session.scalars(
                    select(SubjectRequestRow.id)
                    .where(SubjectRequestRow.state == "comparing")
                    .order_by(SubjectRequestRow.id)
                )
            )

    def reject(self, ctx: RequestContext, request_id: int, reason: str) -> RequestInfo:
        """Reject another person's request: nothing is searched; its descriptors go."""
        target = f"subject:{request_id}"
        with (
            self.access.attempt(ctx, Permission.SUBJECTS_APPROVE, "subject.reject", target),
            self.db.write() as session,
        ):
            row = self._deciding(session, ctx, request_id)
            reason = check_text(reason.strip(), what="reason", max_chars=2000)
            if not reason:
                raise InvalidInput("say why the request is rejected", field="reason")
            row.state, row.decided_by, row.decided_at = "rejected", ctx.principal.name, _now()
            row.descriptors = None
            details = {"request": row.id, "reference": row.reference, "reason": reason}
            self.access.record(session, ctx, "subject.reject", target, details)
            return RequestInfo.of(row)

    def _deciding(
        self, session: Session, ctx: RequestContext, request_id: int
    ) -> SubjectRequestRow:
        row = subject_request(session, request_id)
        if row.requested_by == ctx.principal.name:
            raise Forbidden("nobody approves or rejects their own subject request")
        if row.state != "requested":
            raise Conflict(f"subject request {request_id} is already {row.state}")
        return row


def _now() -> datetime:
    return datetime.now(UTC)


def _may_see(ctx: RequestContext) -> None:
    """Requests' records are for those who take or decide them."""
    if not (
        ctx.principal.can(Permission.SUBJECTS_HANDLE)
        or ctx.principal.can(Permission.SUBJECTS_APPROVE)
    ):
        raise Forbidden(
            f"{ctx.principal.name} may not see subject requests "
            f"(needs {Permission.SUBJECTS_HANDLE} or {Permission.SUBJECTS_APPROVE})"
        )


def _comparing(session: Session, request_id: int) -> SubjectRequestRow:
    row = subject_request(session, request_id)
    if row.state != "comparing":
        raise Conflict(f"subject request {request_id} is {row.state}, not being compared")
    return row


def subject_request(session: Session, request_id: int) -> SubjectRequestRow:
    row = session.get(SubjectRequestRow, request_id)
    if row is None:
        raise NotFound(f"no subject request {request_id}")
    return row


def tally(session: Session, request_id: int) -> tuple[int, int]:
    """(sightings found, of which no person has judged yet) for the request."""
    found, unreviewed = session.execute(
        select(func.count(), func.count().filter(SubjectMatch.verdict.is_(None))).where(
            SubjectMatch.request_id == request_id
        )
    ).one()
    return int(found), int(unreviewed)
