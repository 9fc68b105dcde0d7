"""The segment index: segments, gaps and camera health rows in the metadata store."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vigil.recording.media import ANALYSIS, MAIN
from vigil.recording.records import Gap, Health, Segment, Storage
from vigil.store.db import Database
from vigil.store.groupcommit import GroupCommit
from vigil.store.models import (
    Camera,
    CameraHealth,
    EvidenceHold,
    RecordingGap,
    SegmentRow,
    StorageState,
)


def _segment(row: SegmentRow) -> Segment:
    return Segment(
        row.id,
        row.camera_id,
        row.start,
        row.end,
        row.bytes,
        row.sha256,
        row.path,
        row.node,
        row.stream,
    )


def _held(camera_id: Any, start: Any, end: Any) -> Any:
    """SQL condition: an unreleased hold overlaps [start, end) of that camera."""
    return exists().where(
        EvidenceHold.camera_id == camera_id,
        EvidenceHold.released_at.is_(None),
        EvidenceHold.start < end,
        EvidenceHold.end > start,
    )


class SegmentIndex:
    """The segments' index. A cluster's ingest node gives its name: it then adds segments as
    its own, and its recovery, retention and backlog see only those (its disk's).

    Cameras' recorders add their closed segments through ``GroupCommit`` without waiting:
    segments that close at the same moment share one transaction, or, with ``every_s``, all
    that close within that time (one transaction a second for a node of any size).
    """

    def __init__(self, db: Database, node: str | None = None, every_s: float = 0.0) -> None:
        self.db = db
        self.node = node
        self.commits: GroupCommit[Segment, Segment] = GroupCommit(
            "segment-index", self._insert, period_s=every_s
        )

    def _mine(self) -> ColumnElement[bool]:
        return true() if self.node is None else SegmentRow.node == self.node

    # -- written by the recorder -------------------------------------------------------
    def add(self, segment: Segment) -> Segment:
        """Index a closed segment in a transaction of its own; returns it with its id."""
        return self._insert([segment])[0]

    def add_later(self, segment: Segment) -> Future[Segment]:
        """Index a closed segment with those closing near it, without waiting: the future
        holds it with its id once committed (callbacks run on the index's thread)."""
        return self.commits.submit_later(segment)

    def _insert(self, segments: list[Segment]) -> list[Segment]:
        rows = [
            {
                "camera_id": s.camera_id,
                "start": s.start,
                "end": s.end,
                "bytes": s.bytes,
                "sha256": s.sha256,
                "path": s.path,
                "node": self.node,
                "stream": s.stream,
            }
            for s in segments
        ]
        returning = insert(SegmentRow).returning(SegmentRow.id, sort_by_parameter_order=True)
        try:
            with self.db.write() as session:
                ids = list(session.scalars(returning, rows))
        except IntegrityError:
            # Alone (group commit tries a failed batch's segments one by one): the same
            # segment indexed already is that row, as when a commit went through but its
            # answer was lost and the recorder tried again; anything else is refused.
            indexed = self._indexed(segments[0]) if len(segments) == 1 else None
            if indexed is None:
                raise
            return [indexed]
        return [replace(s, id=i, node=self.node) for s, i in zip(segments, ids, strict=True)]

    def _indexed(self, segment: Segment) -> Segment | None:
        """The row of this very segment (its file, camera, times and hash), if indexed."""
        with self.db.read() as session:
            row = session.scalar(select(SegmentRow).where(SegmentRow.path == segment.path))
            if row is None:
                return None
            found = _segment(row)
        same = (found.camera_id, found.sha256, found.bytes, found.stream) == (
            segment.camera_id,
            segment.sha256,
            segment.bytes,
            segment.stream,
        )
        return found if same and found.node == self.node else None

    def close(self) -> None:
        self.commits.close()

    def analysed_elsewhere(self, segment_id: int) -> None:
        """A recording's segment whose faces its camera's analysis stream gives: nothing to
        analyse in it (a re-analysis may still analyse it)."""
        with self.db.write() as session:
            row = session.get(SegmentRow, segment_id)
            if row is not None and row.analysed_at is None:
                row.analysed_at = datetime.now(UTC)

    def open_gap(self, camera_id: int, start: datetime, reason: str) -> None:
        """Start a gap unless one is open already (a camera that keeps failing has one gap)."""
        with self.db.write() as session:
            if _open_gap(session, camera_id) is None:
                session.add(RecordingGap(camera_id=camera_id, start=start, end=None, reason=reason))

    def close_gap(self, camera_id: int, end: datetime) -> None:
        with self.db.write() as session:
            gap = _open_gap(session, camera_id)
            if gap is not None:
                gap.end = max(end, gap.start)

    def save_health(self, snapshots: list[Health]) -> None:
        with self.db.write() as session:
            for h in snapshots:
                session.merge(
                    CameraHealth(
                        camera_id=h.camera_id,
                        state=h.state,
                        last_frame_at=h.last_frame_at,
                        fps=h.fps,
                        bitrate_bps=h.bitrate_bps,
                        reconnects=h.reconnects,
                        error=h.error,
                        updated_at=h.updated_at,
                    )
                )

    def save_storage(self, storage: Storage) -> None:
        with self.db.write() as session:
            session.merge(
                StorageState(
                    node=storage.node,
                    state=storage.state,
                    detail=storage.detail,
                    free_bytes=storage.free_bytes,
                    recorded_bytes=storage.recorded_bytes,
                    wanted_free_bytes=storage.wanted_free_bytes,
                    write_bps=storage.write_bps,
                    updated_at=storage.updated_at,
                )
            )

    def remove(self, segment_ids: list[int]) -> None:
        with self.db.write() as session:
            session.execute(delete(SegmentRow).where(SegmentRow.id.in_(segment_ids)))

    # -- read ---------------------------------------------------------------------------
    def last_end(self, camera_id: int) -> datetime | None:
        with self.db.read() as session:
            return session.scalar(
                select(func.max(SegmentRow.end)).where(
                    SegmentRow.camera_id == camera_id, SegmentRow.stream == MAIN
                )
            )

    def get(self, segment_id: int) -> Segment | None:
        with self.db.read() as session:
            row = session.get(SegmentRow, segment_id)
            return None if row is None else _segment(row)

    def paths(self) -> set[str]:
        with self.db.read() as session:
            return set(session.scalars(select(SegmentRow.path).where(self._mine())))

    def between(self, camera_id: int, start: datetime, end: datetime) -> list[Segment]:
        with self.db.read() as session:
            rows = session.scalars(
                select(SegmentRow)
                .where(
                    SegmentRow.camera_id == camera_id,
                    SegmentRow.stream == MAIN,
                    SegmentRow.start < end,
                    SegmentRow.end > start,
                )
                .order_by(SegmentRow.start)
            )
            return [_segment(r) for r in rows]

    def gaps(self, camera_id: int, start: datetime | None = None) -> list[Gap]:
        with self.db.read() as session:
            query = select(RecordingGap).where(RecordingGap.camera_id == camera_id)
            if start is not None:
                query = query.where((RecordingGap.end.is_(None)) | (RecordingGap.end > start))
            rows = session.scalars(query.order_by(RecordingGap.start))
            return [Gap(r.start, r.end, r.reason) for r in rows]

    def health(self, camera_id: int) -> Health | None:
        with self.db.read() as session:
            row = session.get(CameraHealth, camera_id)
            if row is None:
                return None
            return Health(
                row.camera_id,
                row.state,
                row.last_frame_at,
                row.fps,
                row.bitrate_bps,
                row.reconnects,
                row.error,
                row.updated_at,
            )

    def storage(self) -> list[Storage]:
        with self.db.read() as session:
            rows = session.scalars(select(StorageState).order_by(StorageState.node))
            return [
                Storage(
                    r.node,
                    r.state,
                    r.detail,
                    r.free_bytes,
                    r.recorded_bytes,
                    r.wanted_free_bytes,
                    r.write_bps,
                    r.updated_at,
                )
                for r in rows
            ]

    def coverage(self, camera_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            count, first, last, seconds, size = session.execute(
                select(
                    func.count(SegmentRow.id),
                    func.min(SegmentRow.start),
                    func.max(SegmentRow.end),
                    func.sum(_seconds(session)),
                    func.sum(SegmentRow.bytes),
                ).where(SegmentRow.camera_id == camera_id, SegmentRow.stream == MAIN)
            ).one()
        return {
            "segments": count,
            "first": None if first is None else _aware(first).isoformat(),
            "last": None if last is None else _aware(last).isoformat(),
            "seconds": round(float(seconds or 0.0), 3),
            "bytes": int(size or 0),
        }

    def oldest_unheld(
        self, limit: int, *, before: datetime | None = None, after: Segment | None = None
    ) -> list[Segment]:
        """The oldest segments no hold protects, for retention (oldest first); ``after``
        pages on from a segment an earlier call returned."""
        with self.db.read() as session:
            query = select(SegmentRow).where(
                self._mine(), ~_held(SegmentRow.camera_id, SegmentRow.start, SegmentRow.end)
            )
            if before is not None:
                query = query.where(SegmentRow.end <= before)
            if after is not None:
                query = query.where(
                    (SegmentRow.start > after.start)
                    | ((SegmentRow.start == after.start) & (SegmentRow.id > after.id))
                )
            order = (SegmentRow.start, SegmentRow.id)
            rows = session.scalars(query.order_by(*order).limit(limit))
            return [_segment(r) for r in rows]

    def spent_analysis(self, before: datetime, limit: int) -> list[Segment]:
        """Analysis-stream segments analysed before then (their sightings hold what they
        showed): for deletion, oldest first."""
        with self.db.read() as session:
            rows = session.scalars(
                select(SegmentRow)
                .where(
                    self._mine(),
                    SegmentRow.stream == ANALYSIS,
                    SegmentRow.analysed_at.is_not(None),
                    SegmentRow.analysed_at < before,
                )
                .order_by(SegmentRow.start)
                .limit(limit)
            )
            return [_segment(r) for r in rows]

    def newest_ends(self) -> dict[int, datetime]:
        """Where each recorded camera's indexed footage ends (one index lookup per camera)."""
        newest = (
            select(func.max(SegmentRow.end))
            .where(SegmentRow.camera_id == Camera.id, SegmentRow.stream == MAIN, self._mine())
            .scalar_subquery()
        )
        with self.db.read() as session:
            rows = session.execute(select(Camera.id, newest))
            return {camera_id: _aware(end) for camera_id, end in rows if end is not None}

    def unanalysed(self, limit: int) -> list[Segment]:
        """Segments waiting for face analysis, oldest first."""
        with self.db.read() as session:
            rows = session.scalars(
                select(SegmentRow)
                .where(SegmentRow.analysed_at.is_(None), self._mine())
                .order_by(SegmentRow.start)
                .limit(limit)
            )
            return [_segment(r) for r in rows]

    def backlog(self) -> tuple[int, datetime | None]:
        """How many segments wait for analysis, and the end of the oldest."""
        with self.db.read() as session:
            count, oldest = session.execute(
                select(func.count(SegmentRow.id), func.min(SegmentRow.end)).where(
                    SegmentRow.analysed_at.is_(None)
                )
            ).one()
        return int(count), oldest

    def analysis_failures(self) -> tuple[int, int]:
        """Segments whose analysis was given up on, and frames skipped as failed."""
        given_up = SegmentRow.analysis_error.is_not(None) & SegmentRow.analysed_at.is_not(None)
        with self.db.read() as session:
            segments = session.scalar(select(func.count(SegmentRow.id)).where(given_up))
            frames = session.scalar(select(func.sum(SegmentRow.frames_failed)))
        return int(segments or 0), int(frames or 0)

    def lowered_since(self, since: datetime) -> tuple[int, float | None]:
        """Segments analysed since then at a rate back-pressure lowered, and the lowest."""
        with self.db.read() as session:
            count, lowest = session.execute(
                select(func.count(SegmentRow.id), func.min(SegmentRow.lowered_fps)).where(
                    SegmentRow.analysed_at >= since, SegmentRow.lowered_fps.is_not(None)
                )
            ).one()
        return int(count), lowest

    def total_bytes(self) -> int:
        with self.db.read() as session:
            total = session.scalar(select(func.sum(SegmentRow.bytes)).where(self._mine()))
            return int(total or 0)


def waiting_in(session: Session, segment_id: int) -> Segment | None:
    """The segment if it still waits for analysis (a job delivered again may find it
    analysed already, or deleted by retention)."""
    row = session.get(SegmentRow, segment_id)
    return None if row is None or row.analysed_at is not None else _segment(row)


def _open_gap(session: Session, camera_id: int) -> RecordingGap | None:
    return session.scalar(
        select(RecordingGap).where(RecordingGap.camera_id == camera_id, RecordingGap.end.is_(None))
    )


def _seconds(session: Session) -> Any:
    """Segment length in seconds as SQL, per dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(SegmentRow.end) - func.julianday(SegmentRow.start)) * 86400.0
    return func.extract("epoch", SegmentRow.end - SegmentRow.start)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
