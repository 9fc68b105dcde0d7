"""Broadcasts: a camera's recording, faces blurred, delayed, at most 720p, for an audience.

The audiences are the public (``/public``) and each third-party organisation, whose picture
also carries its watermark (``stamp``). A camera's picture is rendered only while someone
of the audience watches it (and ``idle_s`` after the last viewer leaves): a channel thread
takes the camera's closed segments as they are indexed, from any node (``SegmentFiles``),
renders them (``publishing.render``) and releases each one-second fragment no earlier than
``delay_s`` after it was recorded. Viewers follow the channel like a live view
(``HubFeed``), never the camera itself: the only video a broadcast can reach is the
redactor's output. The channel checks every second that the audience may still see the
camera (``shown``); once not, the channel ends and so does every open stream of it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigil.errors import NotReady, VigilError
from vigil.publishing.redaction import FaceRedactor
from vigil.publishing.render import (
    FragmentEncoder,
    YuNetBoxes,
    redacted,
)
from vigil.recording.files import SegmentFiles
from vigil.recording.fmp4 import media_seconds
from vigil.recording.index import SegmentIndex
from vigil.recording.live import HubFeed, LiveHub, hub_feed
from vigil.recording.playback import Picture, recorded_pictures
from vigil.recording.records import Segment

logger = logging.getLogger(__name__)

CHECK_S = 1.0  # how often a channel checks that its audience may still see the camera
POLL_S = 0.5  # how often a channel looks for new segments
# A channel starts this far (beyond the delay) in the past, so its first second is due at
# once and plays while the next ones render.
LEAD_S = 5.0
LAG = timedelta(seconds=20)  # later than delay + lead + this: the broadcast skips ahead
PAUSE_S = 10.0  # no new segment for this long: the camera paused, finish its stream
FOLLOWS_ON = timedelta(seconds=1)  # a segment starting later after the last one: a jump


@dataclass(frozen=True, slots=True)
class BroadcastSettings:
    delay_s: float = 15.0
    fps: int = 5
    idle_s: float = 60.0
    threads: int = 1
    # A first viewer waits this long for the first fragment before being told to retry.
    first_wait_s: float = 45.0


@dataclass
class _Channel:
    camera_id: int
    thread: threading.Thread | None = None
    viewers: int = 0
    left_at: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)


Stamp = Callable[[Picture], Picture]  # marks a redacted picture (a watermark)


class Broadcast:
    """The channels of one audience, a camera each; ``shown(camera_id)`` says whether the
    audience may still see that camera, ``stamp`` marks each picture it is sent."""

    def __init__(
        self,
        index: SegmentIndex,
        files: SegmentFiles,
        scratch: Path,
        settings: BroadcastSettings,
        *,
        shown: Callable[[int], bool],
        stamp: Stamp | None = None,
        audience: str = "public",
    ) -> None:
        self.index = index
        self.files = files
        self.scratch = scratch
        self.settings = settings
        self.shown = shown
        self.stamp = stamp
        self.audience = audience
        self.hub = LiveHub()
        self._channels: dict[int, _Channel] = {}
        self._lock = threading.Lock()

    async def watch(self, camera_id: int, name: str) -> BroadcastFeed:
        """A viewer's stream of camera ``name`` (which the caller found the audience may
        see); NotReady when its first redacted second is not out within ``first_wait_s``."""
        channel = self._join(camera_id)
        feed = await self._first(camera_id, channel)
        if feed is None:
            self._leave(channel)
            raise NotReady(f"the {self.audience} picture of camera {name!r} is not ready; retry")
        return BroadcastFeed(feed, lambda: self._leave(channel))

    async def _first(self, camera_id: int, channel: _Channel) -> HubFeed | None:
        deadline = time.monotonic() + self.settings.first_wait_s
        try:
            while (feed := hub_feed(self.hub, camera_id)) is None:
                if time.monotonic() > deadline or channel.stop.is_set():
                    return None
                await asyncio.sleep(0.25)
        except asyncio.CancelledError:  # the viewer went away while waiting
            self._leave(channel)
            raise
        return feed

    def close(self) -> None:
        with self._lock:
            channels = list(self._channels.values())
        for channel in channels:
            channel.stop.set()
            if channel.thread is not None:
                channel.thread.join(timeout=10)

    def _join(self, camera_id: int) -> _Channel:
        with self._lock:
            channel = self._channels.get(camera_id)
            if channel is None or channel.stop.is_set():
                channel = _Channel(camera_id)
                self._channels[camera_id] = channel
                channel.thread = threading.Thread(
                    target=self._run,
                    args=(channel,),
                    name=f"broadcast-{camera_id}",
                    daemon=True,
                )
                channel.thread.start()
            channel.viewers += 1
            return channel

    def _leave(self, channel: _Channel) -> None:
        with self._lock:
            channel.viewers -= 1
            channel.left_at = time.monotonic()

    def _run(self, channel: _Channel) -> None:
        try:
            _Render(self, channel).run()
        except Exception:  # the top of a worker loop: log it, end the channel
            logger.exception("the %s channel of camera %d failed", self.audience, channel.camera_id)
        finally:
            channel.stop.set()
            self.hub.end(channel.camera_id)
            with self._lock:
                if self._channels.get(channel.camera_id) is channel:
                    del self._channels[channel.camera_id]


@dataclass
class BroadcastFeed:
    """One viewer's stream; ``close`` when the viewer goes."""

    feed: HubFeed
    on_close: Callable[[], None]

    @property
    def start(self) -> float:
        return self.feed.start

    @property
    def init(self) -> bytes:
        """The stream's init segment (its first chunk begins with it)."""
        return self.feed.view.init

    def chunks(self) -> AsyncIterator[bytes]:
        return self.feed.chunks()

    def close(self) -> None:
        self.on_close()


@dataclass(frozen=True, slots=True)
class Due:
    """A rendered fragment waiting for the delay to pass."""

    start: float  # when its first frame was recorded
    init: bytes  # the stream it belongs to
    data: bytes

    end: float  # when its last frame was recorded, plus that frame's playing time


def due(start: float, init: bytes, data: bytes) -> Due:
    return Due(start, init, data, start + media_seconds(init, data))


def released(pending: deque[Due], now: float) -> Iterator[Due]:
    """Take off ``pending`` (oldest first) the fragments whose every frame was recorded by
    ``now``: the delay holds for each frame, not only for a fragment's first."""
    while pending and pending[0].end <= now:
        yield pending.popleft()


class _Render:
    """One channel's work: render new segments, release fragments once they are due.

    Consecutive segments make one stream (one encoder, one redactor, so faces are carried
    across segment boundaries). When no segment comes for PAUSE_S (the camera dropped),
    that stream is finished, its last second released, and the next segment begins a new
    one (viewers reconnect to it).
    """

    def __init__(self, broadcast: Broadcast, channel: _Channel) -> None:
        self.b = broadcast
        self.channel = channel
        self.settings = broadcast.settings
        self.faces = YuNetBoxes(threads=self.settings.threads)
        self.pending: deque[Due] = deque()
        self.shown: bytes | None = None  # the init segment viewers are following
        self.checked = 0.0
        self.last_end: datetime | None = None

    def run(self) -> None:
        while self._going():
            self._stream()
            self._release()
            self.channel.stop.wait(POLL_S)

    def _stream(self) -> None:
        encoder = FragmentEncoder(self.settings.fps)

        def wait(fragments: list[tuple[float, bytes]]) -> None:
            if encoder.init is not None:
                self.pending.extend(due(at, encoder.init, data) for at, data in fragments)
            self._release()

        stamp = self.b.stamp
        for picture in redacted(FaceRedactor(self.faces), self._pictures()):
            wait(encoder.encode(picture if stamp is None else stamp(picture)))
            if not self._going():
                return
        wait(encoder.close())

    def _pictures(self) -> Iterator[Picture]:
        """The camera's recorded frames, segment after segment as they are indexed, until
        none has come for PAUSE_S, or until the next one does not follow on (the camera
        had a gap, or rendering fell behind and skips ahead): the next stream starts there."""
        waited_since = time.monotonic()
        rendered = False
        while self._going() and time.monotonic() - waited_since < PAUSE_S:
            segments = self._new_segments()
            last = self.last_end
            if rendered and segments and last is not None and segments[0].start > last + FOLLOWS_ON:
                logger.info(
                    "%s broadcast of camera %d starts a new stream at %s",
                    self.b.audience,
                    self.channel.camera_id,
                    segments[0].start.isoformat(),
                )
                return
            for segment in segments:
                yield from self._frames(segment)
                rendered = True
                waited_since = time.monotonic()
            self._release()
            self.channel.stop.wait(POLL_S)

    def _going(self) -> bool:
        """Whether the channel goes on: not stopped, watched (or lately), still shown.
        Once it says no, the channel ends: it never says yes again."""
        channel = self.channel
        now = time.monotonic()
        if channel.viewers <= 0 and now - channel.left_at > self.settings.idle_s:
            channel.stop.set()
        elif now - self.checked >= CHECK_S:
            self.checked = now
            if not self.b.shown(channel.camera_id):
                logger.info(
                    "camera %d is no longer shown to %s: its broadcast ends",
                    channel.camera_id,
                    self.b.audience,
                )
                channel.stop.set()
        return not channel.stop.is_set()

    def _new_segments(self) -> list[Segment]:
        """Segments after the last one rendered; none older than LAG_S beyond the delay
        (when rendering is slower than the camera, it skips ahead rather than fall ever
        further behind)."""
        now = datetime.now(UTC)
        oldest = now - timedelta(seconds=self.settings.delay_s + LEAD_S)
        since = oldest if self.last_end is None else max(self.last_end, oldest - LAG)
        return [
            s
            for s in self.b.index.between(self.channel.camera_id, since, now + timedelta(days=1))
            if s.end > since
        ]

    def _frames(self, segment: Segment) -> Iterator[Picture]:
        self.last_end = segment.end
        try:
            with self.b.files.opened(segment, self.b.scratch) as path:
                yield from recorded_pictures(
                    path, segment.start.timestamp(), self.settings.fps, self.settings.threads
                )
        except VigilError as exc:  # unreadable or unreachable: the broadcast skips it
            logger.warning(
                "%s broadcast skips segment %d: %s", self.b.audience, segment.id, exc.message
            )

    def _release(self) -> None:
        """Hand viewers every fragment whose frames were all recorded ``delay_s`` ago."""
        camera = self.channel.camera_id
        for fragment in released(self.pending, time.time() - self.settings.delay_s):
            if fragment.init is not self.shown:
                self.b.hub.begin(camera, fragment.init)
                self.shown = fragment.init
            self.b.hub.publish(camera, fragment.data, fragment.start)
