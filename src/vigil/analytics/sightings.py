"""Stored sightings: one row per tracked face, replaced whole when a segment is re-analysed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.analytics.analyzer import Sighting
from vigil.analytics.paths import encode_path
from vigil.recording.media import MAIN
from vigil.store.models import AlertRow, AlertSighting, CaseResult, SightingRow

SEGMENT = "segment"  # the source of a recorded segment's sightings


def segment_source(stream: str) -> str:
    """How a segment's sightings are marked: "segment", or "segment:analysis" when their
    faces come from the camera's analysis stream (reports say so)."""
    return SEGMENT if stream == MAIN else f"{SEGMENT}:{stream}"


def stream_of(source: str) -> str:
    """The stream a sighting's face was seen on (``segment_source`` read back)."""
    kind, _, stream = source.partition(":")
    return stream if kind == SEGMENT and stream else MAIN


def store_sightings(
    session: Session,
    camera_id: int,
    sightings: list[Sighting],
    *,
    source: str,
    segment_id: int | None = None,
    evidence_of: tuple[int, str, str] | None = None,
) -> list[int]:
    """Insert the sightings; for a segment, its earlier sightings go first (idempotent).
    ``evidence_of`` is an imported file's case, SHA-256 and importer: its sightings belong
    to that case alone.

    Earlier sightings that are evidence (a reviewed alert's, a case's result) are kept,
    detached from the segment, so that re-analysis never deletes what people relied on.
    """
    if segment_id is not None:
        of_segment = SightingRow.segment_id == segment_id
        evidence = select(CaseResult.sighting_id).union(
            select(AlertSighting.sighting_id)
            .join(AlertRow, AlertRow.id == AlertSighting.alert_id)
            .where(AlertRow.state != "pending")
        )
        session.execute(
            update(SightingRow)
            .where(of_segment, SightingRow.id.in_(evidence))
            .values(segment_id=None, source="segment, kept as evidence")
            .execution_options(synchronize_session=False)
        )
        replaced = select(SightingRow.id).where(of_segment)
        # Unreviewed alerts go with their sightings.
        session.execute(
            delete(AlertRow).where(AlertRow.state == "pending", AlertRow.sighting_id.in_(replaced))
        )
        session.execute(delete(SightingRow).where(of_segment))
    now = datetime.now(UTC)
    case_id, sha256, imported_by = evidence_of or (None, None, None)
    rows = [
        SightingRow(
            camera_id=camera_id,
            segment_id=segment_id,
            source=source,
            case_id=case_id,
            imported_sha256=sha256,
            imported_by=imported_by,
            start=datetime.fromtimestamp(s.start, UTC),
            end=datetime.fromtimestamp(s.end, UTC),
            box=json.dumps(s.box.to_dict()),
            face_px=s.quality.face_px,
            sharpness=s.quality.sharpness,
            frontalness=s.quality.frontalness,
            faces=s.faces,
            crop=s.crop_jpeg,
            embedding=s.descriptors.astype("<f4").tobytes(),
            embedding_models=s.models,
            descriptors=len(s.descriptors),
            path=None if s.path is None else encode_path(s.path),
            created_at=now,
        )
        for s in sightings
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]
