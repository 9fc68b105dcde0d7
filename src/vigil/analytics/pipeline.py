"""Every recorded segment is analysed: new ones as they close, the backlog after a restart."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.analytics.jobs import JobQueue, Outcome, SegmentJob
from vigil.analytics.matching import Matcher
from vigil.analytics.sightings import segment_source, store_sightings
from vigil.crowds.events import store_counts
from vigil.crowds.zones import covers
from vigil.recording.index import SegmentIndex, waiting_in
from vigil.recording.media import MediaStore
from vigil.recording.records import Segment
from vigil.store.db import Database
from vigil.store.models import Camera, SegmentRow

logger = logging.getLogger(__name__)

BACKLOG_BATCH = 10_000
MAX_ATTEMPTS = 3  # analyses of one segment before it is given up on
LOWERED_WINDOW = timedelta(minutes=10)  # what "lately" means for lowered rates
# A camera's learned face size follows a smaller face at once, and a larger one by at most
# this factor a segment (a few segments of near faces do not hide the far ones).
FACE_PX_GROWTH = 1.1


def learned_face_px(learned: float | None, smallest: int) -> float:
    """A camera's smallest face lately, after a segment whose smallest face was
    ``smallest`` px wide."""
    if learned is None or smallest <= learned:
        return float(smallest)
    return min(float(smallest), learned * FACE_PX_GROWTH)


@dataclass(frozen=True, slots=True)
class Backlog:
    segments: int
    oldest_end: datetime | None
    failed_segments: int  # given up on after MAX_ATTEMPTS failed analyses
    failed_frames: int  # frames that could not be analysed and were skipped
    # Segments analysed in the last LOWERED_WINDOW at a rate back-pressure lowered, and
    # the lowest such rate (frames a second).
    lowered_segments: int = 0
    lowest_fps: float | None = None

    def lag_s(self, now: datetime) -> float:
        """How far analysis trails the recording: from the oldest waiting segment's end."""
        return 0.0 if self.oldest_end is None else max(0.0, (now - self.oldest_end).total_seconds())

    def to_dict(self, now: datetime) -> dict[str, Any]:
        return {
            "segments": self.segments,
            "oldest_end": None if self.oldest_end is None else self.oldest_end.isoformat(),
            "lag_s": round(self.lag_s(now), 1),
            "failed_segments": self.failed_segments,
            "failed_frames": self.failed_frames,
            "lowered_segments": self.lowered_segments,
            "lowered_window_s": LOWERED_WINDOW.total_seconds(),
            "lowest_fps": None if self.lowest_fps is None else round(self.lowest_fps, 2),
        }


def backlog(index: SegmentIndex) -> Backlog:
    """Segments recorded and not yet analysed (readable from any process)."""
    since = datetime.now(UTC) - LOWERED_WINDOW
    return Backlog(*index.backlog(), *index.analysis_failures(), *index.lowered_since(since))


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
            queue.submit(self._job_for(queue, segment))
        return len(waiting)

    def segment_closed(self, segment: Segment) -> None:
        """The recorder's hook: a new segment is on disk and indexed."""
        if self.queue is not None:
            self.queue.submit(self._job_for(self.queue, segment))

    def _job_for(self, queue: JobQueue, segment: Segment) -> SegmentJob:
        """The job a queue needs: a remote queue's workers read the camera's settings when
        they take it (``job``), so the segment alone goes, without a read of the store."""
        return self.job(segment) if not queue.remote else self._bare_job(segment)

    def _bare_job(self, segment: Segment, path: Path | None = None) -> SegmentJob:
        """The segment's part of its job: where and when, and which stream."""
        return SegmentJob(
            segment.id,
            segment.camera_id,
            path or self.store.path(segment.path),
            segment.start.timestamp(),
            segment.end.timestamp(),
            stream=segment.stream,
        )

    def job(self, segment: Segment, path: Path | None = None, *, redo: bool = False) -> SegmentJob:
        """The job of a segment; a worker elsewhere gives the path of its own copy."""
        with self.db.read() as session:
            return self._job_in(session, segment, path, redo=redo)

    def waiting_job(self, segment_id: int) -> tuple[Segment, SegmentJob] | None:
        """A worker's job as it takes it, in one read: the segment if it still waits for
        analysis (``waiting_in``) and its job, whose path the worker sets to its
        own copy's once fetched."""
        with self.db.read() as session:
            segment = waiting_in(session, segment_id)
            if segment is None:
                return None
            return segment, self._job_in(session, segment, None, redo=False)

    def _job_in(
        self, session: Session, segment: Segment, path: Path | None, *, redo: bool
    ) -> SegmentJob:
        rate, face_px = session.execute(
            select(Camera.analysis_fps, Camera.face_px).where(Camera.id == segment.camera_id)
        ).one()
        hidden = covers(session, segment.camera_id, segment.start, segment.end)
        return replace(
            self._bare_job(segment, path),
            sample_fps=rate,
            redo=redo,
            identify=not hidden,
            face_px=face_px,
        )

    def store_result(self, job: SegmentJob, outcome: Outcome) -> list[int]:
        """Replace the segment's sightings and people counts, raise alerts (face and
        occupancy), mark it analysed: one transaction; the ids of the face alerts raised or
        joined.

        The segment's row is locked first, so two runs of one job (a redelivery while the
        first still ran) store one result: the second finds the segment analysed. A segment
        that a no-identification zone reaches keeps no sighting, whatever the job found (a
        zone approved while it ran).
        """
        sightings, stats = outcome.sightings, outcome.stats
        with self.db.write() as session:
            row = session.get(SegmentRow, job.segment_id, with_for_update=True)
            if row is None:
                logger.info("segment %d went (retention) before its analysis", job.segment_id)
                return []
            if row.analysed_at is not None and not job.redo:
                logger.info("segment %d was analysed already (a job run twice)", job.segment_id)
                return []
            start = datetime.fromtimestamp(job.start, UTC)
            end = datetime.fromtimestamp(job.end, UTC)
            if sightings and covers(session, job.camera_id, start, end):  # none: no question
                sightings = []
            source = segment_source(job.stream)
            ids = store_sightings(
                session, job.camera_id, sightings, source=source, segment_id=job.segment_id
            )
            store_counts(session, job.camera_id, job.segment_id, outcome.counts)
            alerts = self.matcher.match(session, ids)
            row.analysed_at = datetime.now(UTC)
            row.analysis_error = None
            row.frames_failed = stats.frames_failed
            row.lowered_fps = outcome.lowered_fps
            if stats.smallest_face is not None:
                camera = session.get(Camera, job.camera_id)
                if camera is not None:
                    camera.face_px = learned_face_px(camera.face_px, stats.smallest_face)
            session.flush()
            return [alert.id for alert in alerts]

    def store_failure(self, job: SegmentJob, error: str) -> bool:
        """Count a failed analysis of the segment; whether to try it again.

        After ``MAX_ATTEMPTS`` failures the segment leaves the backlog with its error kept
        (``vigil status`` and the metrics count it), so one bad segment never holds up the
        camera's analysis; ``vigil analyze --from --to`` tries it again.
        """
        with self.db.write() as session:
            row = session.get(SegmentRow, job.segment_id, with_for_update=True)
            if row is None or (row.analysed_at is not None and not job.redo):
                return False  # gone, or another run of the job finished it
            row.analysis_attempts += 1
            row.analysis_error = error[:500]
            if row.analysis_attempts < MAX_ATTEMPTS:
                return True
            row.analysed_at = datetime.now(UTC)
            return False
