"""Every recorded segment is analysed: new ones as they close, the backlog after a restart."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from vigil.analytics.analyzer import Sighting
from vigil.analytics.jobs import JobQueue, SegmentJob
from vigil.analytics.matching import Matcher
from vigil.analytics.sightings import store_sightings
from vigil.recording.index import Segment, SegmentIndex
from vigil.recording.media import MediaStore
from vigil.store.db import Database
from vigil.store.models import Camera, SegmentRow

logger = logging.getLogger(__name__)

BACKLOG_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Backlog:
    segments: int
    oldest_end: datetime | None

    def lag_s(self, now: datetime) -> float:
        """How far analysis trails the recording: from the oldest waiting segment's end."""
        return 0.0 if self.oldest_end is None else max(0.0, (now - self.oldest_end).total_seconds())

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "oldest_end": None if self.oldest_end is None else self.oldest_end.isoformat(),
            "lag_s": round(self.lag_s(now), 1),
        }


def backlog(index: SegmentIndex) -> Backlog:
    """Segments recorded and not yet analysed (readable from any process)."""
    return Backlog(*index.backlog())


class AnalysisPipeline:
    def __init__(
        self, db: Database, index: SegmentIndex, store: MediaStore, matcher: Matcher
    ) -> None:
        self.db = db
        self.index = index
        self.store = store
        self.matcher = matcher
        self.queue: JobQueue | None = None

    def start(self, queue: JobQueue) -> int:
        """Attach the queue and hand it the backlog, oldest first; returns how many."""
        self.queue = queue
        waiting = self.index.unanalysed(BACKLOG_BATCH)
        for segment in waiting:
            queue.submit(self.job(segment))
        return len(waiting)

    def segment_closed(self, segment: Segment) -> None:
        """The recorder's hook: a new segment is on disk and indexed."""
        if self.queue is not None:
            self.queue.submit(self.job(segment))

    def job(self, segment: Segment) -> SegmentJob:
        with self.db.read() as session:
            rate = session.scalar(select(Camera.analysis_fps).where(Camera.id == segment.camera_id))
        return SegmentJob(
            segment.id,
            segment.camera_id,
            self.store.path(segment.path),
            segment.start.timestamp(),
            segment.end.timestamp(),
            rate,
        )

    def store_result(self, job: SegmentJob, sightings: list[Sighting]) -> None:
        """Replace the segment's sightings, raise alerts, mark it analysed: one transaction."""
        with self.db.write() as session:
            row = session.get(SegmentRow, job.segment_id)
            if row is None:
                logger.info("segment %d went (retention) before its analysis", job.segment_id)
                return
            ids = store_sightings(
                session, job.camera_id, sightings, source="segment", segment_id=job.segment_id
            )
            self.matcher.match(session, ids)
            row.analysed_at = datetime.now(UTC)
