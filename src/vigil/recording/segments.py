"""Writes one camera's fragments into segment files of about the configured length."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.exc import SQLAlchemyError

from vigil.logthrottle import Throttle
from vigil.recording.index import SegmentIndex
from vigil.recording.media import MAIN, MediaStore, SegmentName, discard, disk_error
from vigil.recording.records import Segment

logger = logging.getLogger(__name__)

# Keyframe timing jitters by a few ms; 3.999 s of a 4 s target is a full segment.
CUT_SLACK_S = 0.1


def utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class SegmentWriter:
    """Init segment + whole fragments per file; a file is indexed only once complete."""

    def __init__(
        self,
        camera_id: int,
        store: MediaStore,
        index: SegmentIndex,
        target_s: float,
        on_segment: Callable[[Segment], None] | None = None,
        *,
        on_written: Callable[[int], None] | None = None,
        stream: str = MAIN,
    ) -> None:
        self.camera_id = camera_id
        self.stream = stream  # the camera's recording, or its analysis stream
        self.on_segment = on_segment
        # Told the size of every write (retention plans its room by the write rate).
        self.on_written = on_written
        self.store = store
        self.index = index
        self.target_s = target_s
        self.init: bytes | None = None
        self._part: tuple[Path, BinaryIO] | None = None
        self._hash = hashlib.sha256()
        self._bytes = 0
        self._start = 0.0
        self._end = 0.0
        # Seconds from a segment's last fragment to its row being committed.
        self.commit_latencies: deque[float] = deque(maxlen=1000)
        self._unindexed: deque[Segment] = deque()  # closed, not yet in the index
        self._throttle = Throttle(logger)

    def begin(self, init: bytes) -> None:
        """A new stream session: later segments start with this init segment."""
        self.finish()
        self.init = init

    def add(self, fragment: bytes, start: float, end: float) -> Segment | None:
        """Append a fragment spanning [start, end) (epoch seconds); returns a closed segment."""
        if self.init is None:
            raise RuntimeError("begin() must be given the init segment first")
        if self._part is None:
            self._part = self.store.open_part(self.camera_id, int(start * 1000), self.stream)
            self._hash = hashlib.sha256()
            self._bytes = 0
            self._start = start
            self._write(self.init)
        self._write(fragment)
        self._end = end
        if self._end - self._start >= self.target_s - CUT_SLACK_S:
            return self.finish()
        return None

    def _write(self, data: bytes) -> None:
        if self._part is None:
            raise RuntimeError("no segment is open")
        path, handle = self._part
        try:
            handle.write(data)
        except OSError as exc:
            discard(path, handle)
            self._part = None
            raise disk_error(exc) from exc
        self._hash.update(data)
        self._bytes += len(data)
        if self.on_written is not None:
            self.on_written(len(data))

    @property
    def open_since(self) -> float | None:
        """When the segment being written began (epoch seconds); None between segments."""
        return self._start if self._part is not None else None

    def finish(self) -> Segment | None:
        """Close the open segment (if any): fsync, rename, index."""
        if self._part is None:
            return None
        began = time.monotonic()
        path, handle = self._part
        self._part = None
        start_ms, end_ms = int(self._start * 1000), int(self._end * 1000)
        if end_ms <= start_ms:
            discard(path, handle)
            return None
        name = SegmentName(self.camera_id, start_ms, end_ms, self.stream)
        self.store.commit(path, handle, name)
        closed = Segment(
            id=0,
            camera_id=self.camera_id,
            start=utc(start_ms / 1000),
            end=utc(end_ms / 1000),
            bytes=self._bytes,
            sha256=self._hash.hexdigest(),
            path=name.relative,
            stream=self.stream,
        )
        self._unindexed.append(closed)
        indexed = self._index_closed()
        self.commit_latencies.append(time.monotonic() - began)
        return indexed[-1] if indexed and indexed[-1].path == closed.path else None

    def _index_closed(self) -> list[Segment]:
        """Index the closed segments in order. While the database cannot be reached they
        wait here (recording goes on) and are indexed at the next close after it returns;
        a recorder stopped meanwhile indexes their files when it starts (recovery)."""
        indexed = []
        while self._unindexed:
            try:
                segment = self.index.add(self._unindexed[0])
            except SQLAlchemyError as exc:
                self._throttle.log(
                    logging.ERROR,
                    "index",
                    "camera %d: %d segments wait to be indexed: %s",
                    self.camera_id,
                    len(self._unindexed),
                    exc,
                )
                break
            self._unindexed.popleft()
            indexed.append(segment)
            if self.on_segment is not None:
                self.on_segment(segment)
        return indexed

    def abort(self) -> None:
        """Drop the open segment without indexing it (its data never completed)."""
        if self._part is not None:
            discard(*self._part)
            self._part = None
