"""Writes one camera's fragments into segment files of about the configured length."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from functools import partial
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
    """Init segment + whole fragments per file; a file is indexed only once complete.

    A closed segment's row is handed to the index without waiting (the index writes the
    rows of segments closing near each other in one transaction); once it is committed,
    ``on_segment`` is told, on the index's thread. The camera's thread never waits on the
    database."""

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
        # Closed, not yet in the index, with when they closed (monotonic seconds).
        self._unindexed: deque[tuple[Segment, float]] = deque()
        self._sent = 0  # of those, handed to the index and not answered yet
        self._refused = False  # the last answer was an error: they wait for the next close
        self._answered = threading.Condition()  # guards the three above
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
        """Close the open segment (if any): fsync, rename, hand to the index; returns the
        closed segment (not yet indexed: its id is 0)."""
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
        with self._answered:
            self._unindexed.append((closed, began))
        self._send()
        return closed

    def _send(self) -> None:
        """Hand the closed segments not yet indexed to the index, in order, unless some
        are still on their way (their answer sends the rest). While the database cannot
        be reached they wait here (recording goes on) and are sent again at the next close;
        a recorder stopped meanwhile indexes their files when it starts (recovery)."""
        with self._answered:
            if self._sent:
                return
            batch = list(self._unindexed)
            self._sent = len(batch)
        for closed in batch:
            self.index.add_later(closed[0]).add_done_callback(partial(self._indexed, closed))

    def _indexed(self, closed: tuple[Segment, float], done: Future[Segment]) -> None:
        error = done.exception()
        with self._answered:
            self._sent -= 1
            self._refused = error is not None
            if error is None:
                self._unindexed.remove(closed)
            waiting = len(self._unindexed)
            more = error is None and not self._sent and waiting > 0  # closed meanwhile
            self._answered.notify_all()
        if error is not None:
            self._throttle.log(
                logging.ERROR,
                "index",
                "camera %d: %d segments wait to be indexed: %s",
                self.camera_id,
                waiting,
                error,
                exc_info=None if isinstance(error, SQLAlchemyError) else error,
            )
            return
        self.commit_latencies.append(time.monotonic() - closed[1])
        if self.on_segment is not None:
            self.on_segment(done.result())
        if more:
            self._send()

    def flush(self, timeout_s: float) -> bool:
        """Wait until the closed segments are answered: indexed, or refused and waiting for
        the next close; False if that took longer than ``timeout_s``."""
        with self._answered:
            return self._answered.wait_for(
                lambda: not self._unindexed or (not self._sent and self._refused), timeout_s
            )

    @property
    def unindexed(self) -> int:
        """Closed segments not yet in the index."""
        with self._answered:
            return len(self._unindexed)

    def abort(self) -> None:
        """Drop the open segment without indexing it (its data never completed)."""
        if self._part is not None:
            discard(*self._part)
            self._part = None
