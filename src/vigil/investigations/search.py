"""Search by photo, only inside an approved, unexpired case, only within its scope.

The probe photos are reduced to descriptors; the vector index ranks only the sightings of
the case's cameras and time window that still hold a descriptor of the configured
embedder's kind (``vigil.faces.descriptors``): sightings described by other models only
are never compared, and the search says how many there were and how to describe them anew
(``vigil analyze --from --to``). Candidates up to the
engine's threshold are returned with their estimated false-match rate; those within the
operating point are flagged ``match``. Each search is stored with the case and audited
with the fields EU AI Act Art. 12(3) asks for: when the use started and ended, the
database searched, the input data (probe hashes) and what matched; confirmations record
who verified which result. Quotas and unusual use raise notices (``abuse``).
"""

from __future__ import annotations

import builtins
import json
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from vigil.analytics.matching import OperatingPoint
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.config import CasesConfig
from vigil.errors import InvalidInput, NotFound
from vigil.faces.compare import similarity
from vigil.faces.engine import FaceEngine
from vigil.faces.photos import Photos
from vigil.faces.reference import ReferenceFace, reference_face
from vigil.investigations.cases import CaseService, searchable, searched_database
from vigil.investigations.membership import case_data, scope_cameras
from vigil.investigations.results import (
    Candidate,
    best_per_sighting,
    candidates,
    zone_erased,
)
from vigil.investigations.scope import outside_zones, scope_count, scope_filter
from vigil.search.vectors import Hit, VectorIndex, days_between
from vigil.store.models import CaseResult, CaseRow, CaseSearch, SightingRow

MAX_PROBES = 5
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class SearchResult:
    search_id: int
    case_id: int
    probes: list[str]  # SHA-256 of the photos
    in_scope: int  # sightings searched
    weak_probe: bool  # a photo below the reference bar was used (--low-quality)
    results: list[Candidate]
    embedder: str = "dlib"
    # Sightings in scope described by other models only: not searched.
    undescribed: int = 0

    def to_dict(self) -> dict[str, Any]:
        found = {
            "search_id": self.search_id,
            "case": self.case_id,
            "probes": self.probes,
            "weak_probe": self.weak_probe,
            "embedder": self.embedder,
            "sightings_searched": self.in_scope,
            "sightings_not_searched": self.undescribed,
            "results": [c.to_dict() for c in self.results],
        }
        if self.undescribed:
            found["warning"] = (
                f"{self.undescribed} sighting(s) in scope lack {self.embedder} descriptors "
                "and were not searched: describe them anew with vigil analyze --camera NAME "
                "--from START --to END"
            )
        return found


@dataclass(frozen=True, slots=True)
class Scope:
    """What one search covered: the case's cameras, how many sightings, on what terms."""

    cameras: dict[int, str]
    sightings: int
    low_quality: bool
    undescribed: int = 0


class SearchService:
    def __init__(
        self,
        access: Access,
        cases: CaseService,
        engine: FaceEngine,
        photos: Photos,
        vectors: VectorIndex,
        point: OperatingPoint,
    ) -> None:
        self.access = access
        self.db = access.db
        self.cases = cases
        self.config: CasesConfig = cases.config
        self.engine = engine
        self.photos = photos
        self.vectors = vectors
        self.point = point
        self.guard = cases.guard
        self._counting = ThreadPoolExecutor(4, thread_name_prefix="vigil-scope-count")

    @property
    def embedder(self) -> str:
        return self.engine.space.embedder

    def close(self) -> None:
        self._counting.shutdown()

    def search(
        self,
        ctx: RequestContext,
        case_id: int,
        photos: builtins.list[tuple[str, bytes]],
        *,
        limit: int = 50,
        low_quality: bool = False,
    ) -> SearchResult:
        """The case's nearest sightings to the photos' person.

        ``low_quality`` lets a photo below the reference bar be used; the search and its
        results are then marked as made from a weak probe, and the choice is audited.
        """
        target = f"case:{case_id}"
        with self.access.attempt(ctx, Permission.CASES_SEARCH, "case.search", target):
            started = datetime.now(UTC)
            if not 1 <= limit <= MAX_LIMIT:
                raise InvalidInput(f"the limit must be 1 to {MAX_LIMIT}", field="limit")
            if not 1 <= len(photos) <= MAX_PROBES:
                raise InvalidInput(f"give 1 to {MAX_PROBES} photos of the person")
            self.cases.seal_overdue(started)
            with self.db.read() as session:
                case = case_data(session, ctx, case_id)
                searchable(case, self.config, started)
                cameras = {c.id: c.name for c in scope_cameras(session, case_id)}
            # The scope's count is the store's longest read: it runs while the photos are
            # described and the index is asked, on a connection of its own.
            counting = self._counting.submit(self._count, case, list(cameras))
            try:
                with self.guard.place(ctx, case.id, started) as held:
                    with self.photos.working(ctx, len(photos)):
                        probes = [
                            reference_face(
                                self.engine, self.photos.limits, name, data, allow_weak=low_quality
                            )
                            for name, data in photos
                        ]
                    nearest = self._nearest(probes, case, list(cameras), limit)
                    described, in_scope = counting.result()
                    scope = Scope(cameras, in_scope, low_quality, described - in_scope)
                    return self._store(ctx, case, held, probes, nearest, scope, started)
            finally:
                wait([counting])  # a refused photo leaves no read running behind it

    def _count(self, case: CaseRow, cameras: builtins.list[int]) -> tuple[int, int]:
        with self.db.read() as session:
            return scope_count(session, case, cameras, self.embedder)

    def _nearest(
        self,
        probes: builtins.list[ReferenceFace],
        case: CaseRow,
        cameras: builtins.list[int],
        limit: int,
    ) -> builtins.list[tuple[Hit, int]]:
        """Each sighting once, with the probe it is nearest to, nearest first."""
        best: dict[int, tuple[Hit, int]] = {}
        for number, probe in enumerate(probes):
            for hit in self._scoped(probe, case, cameras, limit):
                known = best.get(hit.sighting_id)
                if known is None or hit.distance < known[0].distance:
                    best[hit.sighting_id] = (hit, number)
        return sorted(best.values(), key=lambda pair: pair[0].distance)[:limit]

    def _scoped(
        self, probe: ReferenceFace, case: CaseRow, cameras: builtins.list[int], limit: int
    ) -> builtins.list[Hit]:
        """The nearest hits within the threshold that are in scope and still described.

        The index scans the scope's cameras and days; hits from the first and last day
        outside the window, or whose descriptor expired, are dropped here, and the index is
        asked for more while they crowd out the rest.
        """
        days = days_between(case.scope_start, case.scope_end)
        want = limit
        while True:
            found = self.vectors.search(self.engine.view(probe.descriptor), days, cameras, want)
            close = [h for h in found if h.distance <= self.engine.threshold]
            with self.db.read() as session:
                valid = set(
                    session.scalars(
                        select(SightingRow.id).where(
                            SightingRow.id.in_([h.sighting_id for h in close]),
                            *scope_filter(case, cameras, self.embedder),
                            outside_zones(session),
                        )
                    )
                )
            kept = [h for h in close if h.sighting_id in valid]
            exhausted = len(found) < want or len(close) < len(found)
            if len(kept) >= limit or exhausted:
                return kept[:limit]
            want *= 4

    def _store(
        self,
        ctx: RequestContext,
        case: CaseRow,
        held: int,
        probes: builtins.list[ReferenceFace],
        nearest: builtins.list[tuple[Hit, int]],
        scope: Scope,
        started: datetime,
    ) -> SearchResult:
        """Fill in the search's held record, its results and its audit entry."""
        hashes = [p.sha256 for p in probes]
        weak = any(p.weak for p in probes)
        with self.db.write() as session:
            hits = [hit.sighting_id for hit, _ in nearest]
            described: dict[int, int] = dict(
                session.execute(  # a list of rows: a Result would pass for a mapping
                    select(SightingRow.id, SightingRow.descriptors).where(SightingRow.id.in_(hits))
                ).all()
            )
            ended = datetime.now(UTC)
            search = session.get_one(CaseSearch, held)
            search.ended_at = ended
            search.probes = json.dumps(hashes)
            search.in_scope = scope.sightings
            search.results = len(nearest)
            search.weak_probe = weak
            search.embedder = self.embedder
            values = [
                {
                    "search_id": search.id,
                    "case_id": case.id,
                    "sighting_id": hit.sighting_id,
                    "probe": probe,
                    "distance": hit.distance,
                    "similarity": similarity(hit.distance, self.point.scale),
                    "estimated_fmr": self.point.estimated_fmr(
                        hit.distance, described.get(hit.sighting_id, 1) * len(probes)
                    ),
                }
                for hit, probe in nearest
            ]
            if values:  # in one statement: no ORM object is kept to follow
                session.execute(insert(CaseResult), values)
            found = candidates(session, [CaseResult(**v) for v in values], self.point)
            self.guard.after_hours(session, ctx, case.id, started)
            details = {
                "case": case.id,
                "reference": case.reference,
                "search": search.id,
                "use_start": started.isoformat(),
                "use_end": ended.isoformat(),
                "database": searched_database(
                    sorted(scope.cameras.values()), case.scope_start, case.scope_end
                )
                | {"sightings_searched": scope.sightings},
                "probes": hashes,
                "low_quality_allowed": scope.low_quality,
                "embedder": self.embedder,
                "sightings_not_searched": scope.undescribed,
                "weak_probe": weak,
                "matched": [
                    {
                        "sighting": c.sighting_id,
                        "probe": hashes[c.probe],
                        "distance": round(c.distance, 4),
                    }
                    for c in found
                    if c.match
                ],
                "results": len(found),
                "verified_by": [],
            }
            self.access.record(session, ctx, "case.search", f"case:{case.id}", details)
            return SearchResult(
                search.id,
                case.id,
                hashes,
                scope.sightings,
                weak,
                found,
                self.embedder,
                scope.undescribed,
            )

    def results(self, ctx: RequestContext, case_id: int) -> builtins.list[Candidate]:
        """The case's results so far, best first, one per sighting: for its members only."""
        target = f"case:{case_id}"
        self.cases.seal_overdue()
        with self.access.reading(ctx, Permission.CASES_SEARCH, "case.results", target) as (
            session,
            details,
        ):
            case_data(session, ctx, case_id)
            found = candidates(session, best_per_sighting(session, case_id), self.point)
            details["count"] = len(found)
        return found

    def confirm(
        self, ctx: RequestContext, case_id: int, sighting_ids: builtins.list[int]
    ) -> builtins.list[Candidate]:
        """Mark results as the case's subject (verified by the caller); they make the report."""
        target = f"case:{case_id}"
        with (
            self.access.attempt(ctx, Permission.CASES_SEARCH, "case.confirm", target),
            self.db.write() as session,
        ):
            if not sighting_ids:
                raise InvalidInput("name the sightings to confirm")
            now = datetime.now(UTC)
            case = case_data(session, ctx, case_id)
            searchable(case, self.config, now)
            rows = list(
                session.scalars(
                    select(CaseResult).where(
                        CaseResult.case_id == case_id,
                        CaseResult.sighting_id.in_(sighting_ids),
                        CaseResult.sighting_id.not_in(zone_erased(session)),
                    )
                )
            )
            missing = set(sighting_ids) - {r.sighting_id for r in rows}
            if missing:
                raise NotFound(
                    f"sightings {sorted(missing)} are not among case {case_id}'s results",
                    sightings=sorted(missing),
                )
            for row in rows:  # every search's row of the sighting
                if row.confirmed_by is None:
                    row.confirmed_by, row.confirmed_at = ctx.principal.name, now
            session.flush()
            details = {"sightings": sorted(set(sighting_ids)), "verified_by": ctx.principal.name}
            self.access.record(session, ctx, "case.confirm", target, details)
            return candidates(
                session, best_per_sighting(session, case_id, set(sighting_ids)), self.point
            )

    def crop(self, ctx: RequestContext, case_id: int, sighting_id: int) -> bytes:
        """The face crop of one of the case's results (members only; audited)."""
        target = f"case:{case_id}"
        with self.access.reading(ctx, Permission.CASES_SEARCH, "case.crop", target) as (
            session,
            details,
        ):
            case_data(session, ctx, case_id)
            known = session.scalar(
                select(CaseResult.id).where(
                    CaseResult.case_id == case_id, CaseResult.sighting_id == sighting_id
                )
            )
            crop = session.scalar(select(SightingRow.crop).where(SightingRow.id == sighting_id))
            if known is None or not crop:
                raise NotFound(f"no face crop of sighting {sighting_id} in case {case_id}")
            details["sighting"] = sighting_id
        return crop
