"""One supervisor per camera: connect, stream-copy into segments and live view, reconnect.

A supervisor runs in its own thread; nothing it does can stop another camera. On any loss
it records the start of a gap, waits with capped exponential backoff and connects again;
the gap ends when the first fragment of the new connection is on disk.

A full disk is not a loss of the source: the camera stays connected and on the live view,
its state stays ``disk_full`` and writing is tried again each second until there is room;
the gap runs from the first footage lost to the first written again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction

import av
from sqlalchemy.exc import SQLAlchemyError

from vigil.cameras.sources import Source, SourceError, Timeouts, open_source
from vigil.errors import DiskFull, VigilError
from vigil.logthrottle import Throttle
from vigil.recording.fmp4 import FRAGMENTED_MP4, FragmentSplitter
from vigil.recording.index import SegmentIndex
from vigil.recording.live import LiveHub
from vigil.recording.media import MAIN
from vigil.recording.records import Health
from vigil.recording.segments import SegmentWriter, utc

logger = logging.getLogger(__name__)

STATS_WINDOW_S = 5.0
SPACE_RETRY_S = 1.0  # while the disk is full, writing is tried again this often


@dataclass(frozen=True, slots=True)
class IngestTarget:
    camera_id: int
    name: str
    url: str  # with credentials: never logged or shown
    stream: str = MAIN  # the recording, or the camera's analysis stream

    @property
    def main(self) -> bool:
        return self.stream == MAIN


@dataclass(frozen=True, slots=True)
class Backoff:
    initial_s: float = 0.5
    max_s: float = 2.0

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.initial_s * 2.0 ** max(0, failures - 1))


class _Stats:
    """Frames and bytes over the last few seconds, for fps and bitrate."""

    def __init__(self) -> None:
        self._events: deque[tuple[float, int]] = deque()

    def add(self, now: float, size: int) -> None:
        self._events.append((now, size))
        while self._events and self._events[0][0] < now - STATS_WINDOW_S:
            self._events.popleft()

    def rates(self, now: float) -> tuple[float, float]:
        recent = [(t, n) for t, n in self._events if t >= now - STATS_WINDOW_S]
        if len(recent) < 2:
            return 0.0, 0.0
        span = max(recent[-1][0] - recent[0][0], 1e-3)
        return (len(recent) - 1) / span, 8 * sum(n for _, n in recent[1:]) / span

    def clear(self) -> None:
        self._events.clear()


class CameraSupervisor:
    def __init__(
        self,
        target: IngestTarget,
        writer: SegmentWriter,
        index: SegmentIndex,
        live: LiveHub,
        *,
        timeouts: Timeouts = Timeouts(),
        backoff: Backoff = Backoff(),
        on_disk_full: Callable[[], None] | None = None,
    ) -> None:
        self.target = target
        self.on_disk_full = on_disk_full  # retention is told at once
        self.writer = writer
        self.index = index
        self.live = live
        self.timeouts = timeouts
        self.backoff = backoff
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"ingest-{target.name}-{target.stream}", daemon=True
        )
        self._stats = _Stats()
        self.state = "connecting"
        self.error: str | None = None
        self.reconnects = 0
        self.last_frame_at: float | None = None
        self.online_since: float | None = None  # the first frame of this connection
        self._gap: tuple[datetime, str] | None = None  # since when, and why, not recorded
        self._retry_write_at = 0.0
        self._throttle = Throttle(logger)

    # -- control ------------------------------------------------------------------------
    def start(self) -> None:
        last = self.index.last_end(self.target.camera_id) if self.target.main else None
        if last is not None:  # not recorded since the last run ended
            self._gap_begins(last, "recorder not running")
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop streaming; the last segment is closed and its row written (unless the
        database cannot take it: then recovery indexes its file at the next start)."""
        self._stop.set()
        self._thread.join(timeout_s)
        self.writer.flush(timeout_s)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def health(self) -> Health:
        now = time.time()
        streaming = self.state in ("online", "disk_full")
        fps, bitrate = self._stats.rates(now) if streaming else (0.0, 0.0)
        return Health(
            camera_id=self.target.camera_id,
            state=self.state,
            last_frame_at=None if self.last_frame_at is None else utc(self.last_frame_at),
            fps=fps,
            bitrate_bps=bitrate,
            reconnects=self.reconnects,
            error=self.error,
            updated_at=datetime.now(UTC),
        )

    # -- the loop -----------------------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self.state = "connecting"
            recorded = False
            try:
                recorded = self._session()
                self.error, reason = "the stream ended", "source lost"
            except SourceError as exc:
                self.error, reason = exc.message, "source lost"
            except (av.FFmpegError, OSError) as exc:
                self.error, reason = f"stream error: {exc}", "source lost"
            except Exception as exc:  # the top of a worker loop: log, count, carry on
                logger.exception("camera %s: unexpected error", self.target.name)
                self.error, reason = f"internal error: {type(exc).__name__}", "recorder error"
            self._end_session()
            if self._stop.is_set():
                break
            if recorded:
                failures = 0
            failures += 1
            self.reconnects += 1
            self.state = "offline"
            self._gap_begins(self.last_frame_at or time.time(), reason)
            self._throttle.log(
                logging.WARNING, "lost", "camera %s: %s (%s)", self.target.name, reason, self.error
            )
            self._stop.wait(self.backoff.delay(failures))
        self.state = "stopped"

    def _session(self) -> bool:
        """Record one connection until it ends; True when at least one fragment was kept."""
        source = open_source(self.target.url, self.timeouts)
        try:
            return self._copy(source)
        finally:
            source.container.close()

    def _copy(self, source: Source) -> bool:
        stream = source.container.streams.video[0]
        splitter = FragmentSplitter()
        output = av.open(splitter, "w", format="mp4", options=FRAGMENTED_MP4)
        recorded = False
        try:
            out_stream = output.add_stream_from_template(stream)
            time_base = stream.time_base or Fraction(1, 90000)
            first_dts: int | None = None
            last_dts = -1
            fragment_start = 0.0
            paced_from = 0.0
            for packet in source.container.demux(stream):
                if self._stop.is_set():
                    break
                if packet.dts is None or packet.size == 0:
                    continue
                if first_dts is None:
                    if not packet.is_keyframe:
                        continue  # a segment must start on a keyframe
                    first_dts, paced_from = packet.dts, time.time()
                dts = packet.dts - first_dts
                if dts <= last_dts:
                    continue  # the muxer needs increasing timestamps; a camera glitch
                if source.paced:
                    self._pace(paced_from + float(dts * time_base))
                now = time.time()
                last_dts = dts
                packet.dts = dts
                packet.pts = dts if packet.pts is None else packet.pts - first_dts
                packet.stream = out_stream
                self._frame(now, packet.size)
                output.mux(packet)
                if splitter.init is not None and self.writer.init is not splitter.init:
                    self._begin(splitter.init)
                    fragment_start = now
                for fragment in splitter.drain():
                    self._keep(fragment, fragment_start, now)
                    recorded, fragment_start = True, now
        finally:
            output.close()  # writes the last fragment
        if self.last_frame_at is not None:
            for fragment in splitter.drain():
                self._keep(fragment, fragment_start, self.last_frame_at)
                recorded = True
        return recorded

    def _begin(self, init: bytes) -> None:
        """A new connection's init segment: for its segments, and the live view's."""
        self.writer.begin(init)
        if self.target.main:
            self.live.begin(self.target.camera_id, init)

    def _frame(self, now: float, size: int) -> None:
        if self.state == "connecting":
            self.state, self.error = "online", None
            self.online_since = now
            if self._throttle.log(logging.INFO, "back", "camera %s: streaming", self.target.name):
                self._throttle.reset("lost")
        self.last_frame_at = now
        self._stats.add(now, size)

    def _keep(self, fragment: bytes, start: float, end: float) -> None:
        if self.target.main:
            self.live.publish(self.target.camera_id, fragment, start)
        if self._write(fragment, start, end):
            self._gap_ends(start)

    def _write(self, fragment: bytes, start: float, end: float) -> bool:
        """Record a fragment; False while the disk is full (the stream and live view go on)."""
        if self.state == "disk_full" and time.monotonic() < self._retry_write_at:
            return False
        lost_from = self.writer.open_since or start
        try:
            self.writer.add(fragment, start, end)
        except DiskFull as exc:
            self._retry_write_at = time.monotonic() + SPACE_RETRY_S
            if self.state != "disk_full":
                self.state, self.error = "disk_full", exc.message
                self._throttle.log(
                    logging.WARNING,
                    "disk",
                    "camera %s: not recording (%s); the stream and live view go on",
                    self.target.name,
                    exc.message,
                )
                self._gap_begins(lost_from, "disk full")
                if self.on_disk_full is not None:
                    self.on_disk_full()
            return False
        if self.state == "disk_full":
            self.state, self.error = "online", None
            logger.info("camera %s: recording again", self.target.name)
            self._throttle.reset("disk")
        return True

    def _pace(self, due: float) -> None:
        delay = due - time.time()
        if delay > 0:
            self._stop.wait(delay)

    def _gap_begins(self, start: float | datetime, reason: str) -> None:
        """Footage stops here: on record now if the store can take it, else when it ends."""
        if self._gap is None:
            moment = start if isinstance(start, datetime) else utc(start)
            self._gap = (moment, reason)
        self._save_gap()

    def _gap_ends(self, end: float) -> None:
        if self._gap is not None and self._save_gap(utc(end)):
            self._gap = None

    def _save_gap(self, end: datetime | None = None) -> bool:
        """Gaps are the recording's: an analysis stream's pauses leave none (its camera's
        recording is analysed meanwhile)."""
        if self._gap is None or not self.target.main:
            return True
        start, reason = self._gap
        camera = self.target.camera_id
        try:
            self.index.open_gap(camera, start, reason)  # nothing if it is open already
            if end is not None:
                self.index.close_gap(camera, end)
        except (VigilError, SQLAlchemyError) as exc:  # a full or unreachable store: retried
            self._throttle.log(
                logging.ERROR, "gap", "camera %s: gap not recorded yet: %s", self.target.name, exc
            )
            return False
        return True

    def _end_session(self) -> None:
        self._stats.clear()
        self.online_since = None
        if self.target.main:
            self.live.end(self.target.camera_id)
        try:
            self.writer.finish()
        except OSError as exc:  # disk full while closing: that segment is lost, say so
            self.writer.abort()
            self.error = f"could not close a segment: {exc}"
        self.writer.init = None
