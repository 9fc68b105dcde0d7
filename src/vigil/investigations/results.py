"""A case's results as investigators read them: where and when each sighting was, how
close it came, whether it was found with a weak photo, and who confirmed it.

Shared by search (results, confirmations) and the movement report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vigil.analytics.matching import OperatingPoint
from vigil.analytics.sightings import stream_of
from vigil.crowds.zones import excluded
from vigil.recording.media import MAIN
from vigil.store.models import Camera, CaseResult, CaseSearch, SightingRow, Site


@dataclass(frozen=True, slots=True)
class Candidate:
    sighting_id: int
    camera: str
    site: str | None
    latitude: float | None
    longitude: float | None
    start: datetime
    end: datetime
    distance: float
    similarity: float
    estimated_fmr: float | None
    match: bool  # within the operating point
    probe: int  # which of the search's photos it is nearest to
    confirmed_by: str | None
    face_stored: bool  # its crop is kept (open cases keep it; otherwise it expires)
    weak_probe: bool  # found with a photo below the reference bar: weaker evidence
    stream: str = MAIN  # where its face was seen: the recording, or the analysis stream

    def to_dict(self) -> dict[str, Any]:
        return {
            "sighting_id": self.sighting_id,
            "camera": self.camera,
            "site": self.site,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "similarity": round(self.similarity, 4),
            "distance": round(self.distance, 4),
            "estimated_fmr": self.estimated_fmr,
            "match": self.match,
            "probe": self.probe,
            "confirmed_by": self.confirmed_by,
            "face_stored": self.face_stored,
            "weak_probe": self.weak_probe,
            "stream": self.stream,
        }


def candidates(
    session: Session, rows: Sequence[CaseResult], point: OperatingPoint
) -> list[Candidate]:
    """Results with where and when their sightings were (sightings read once, in bulk)."""
    ids = [r.sighting_id for r in rows]
    searches: dict[int, tuple[bool, str]] = {
        search_id: (weak, embedder)
        for search_id, weak, embedder in session.execute(
            select(CaseSearch.id, CaseSearch.weak_probe, CaseSearch.embedder).where(
                CaseSearch.id.in_({r.search_id for r in rows})
            )
        )
    }
    places = {
        sighting_id: (start, end, camera, site, lat, lon, stored, source)
        for sighting_id, start, end, camera, site, lat, lon, stored, source in session.execute(
            select(
                SightingRow.id,
                SightingRow.start,
                SightingRow.end,
                Camera.name,
                Site.name,
                Camera.latitude,
                Camera.longitude,
                SightingRow.crop.is_not(None),
                SightingRow.source,
            )
            .join(Camera, Camera.id == SightingRow.camera_id)
            .outerjoin(Site, Site.id == Camera.site_id)
            .where(SightingRow.id.in_(ids))
        )
    }
    found = []
    for row in rows:
        start, end, camera, site, lat, lon, stored, source = places[row.sighting_id]
        found.append(
            Candidate(
                row.sighting_id,
                camera,
                site,
                lat,
                lon,
                start,
                end,
                row.distance,
                row.similarity,
                row.estimated_fmr,
                point.matches(row.distance, searches[row.search_id][1]),
                row.probe,
                row.confirmed_by,
                bool(stored),
                searches[row.search_id][0],
                stream_of(source),
            )
        )
    return found


def best_per_sighting(
    session: Session, case_id: int, only: set[int] | None = None
) -> list[CaseResult]:
    """One row per sighting of the case, its nearest (confirming marks all of a sighting's)."""
    query = select(CaseResult).where(
        CaseResult.case_id == case_id, CaseResult.sighting_id.not_in(zone_erased(session))
    )
    if only is not None:
        query = query.where(CaseResult.sighting_id.in_(only))
    best: dict[int, CaseResult] = {}
    for row in session.scalars(query.order_by(CaseResult.distance)):
        best.setdefault(row.sighting_id, row)
    return sorted(best.values(), key=lambda r: r.distance)


def zone_erased(session: Session) -> Select[int]:
    """Sightings inside a no-identification zone in force that lost their face to it: their
    results are no longer listed, reported or confirmable (those kept as evidence are)."""
    return select(SightingRow.id).where(
        SightingRow.crop.is_(None),
        ~excluded(session, SightingRow.camera_id, SightingRow.start, SightingRow.end),
    )
