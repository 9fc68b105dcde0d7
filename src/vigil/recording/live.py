"""Live view: each camera's latest fMP4 fragments, kept in memory for viewers to follow.

The ingest supervisor publishes every fragment as it completes (one per keyframe interval);
a viewer gets the init segment, then fragments from the newest one on, so its latency is
about one keyframe interval plus its own buffer.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

KEEP_FRAGMENTS = 8
POLL_S = 0.1  # how often a viewer looks for new fragments


@dataclass(frozen=True, slots=True)
class Fragment:
    seq: int
    data: bytes
    start: float  # wall-clock time (epoch seconds) of its first frame


@dataclass
class _Channel:
    session: int = 0
    init: bytes | None = None
    fragments: deque[Fragment] = field(default_factory=lambda: deque(maxlen=KEEP_FRAGMENTS))
    next_seq: int = 0


@dataclass(frozen=True, slots=True)
class LiveView:
    """What a viewer has been sent: the stream session and the last fragment's number."""

    session: int
    init: bytes
    seq: int


class LiveHub:
    def __init__(self) -> None:
        self._channels: dict[int, _Channel] = {}
        self._lock = threading.Lock()

    def begin(self, camera_id: int, init: bytes) -> None:
        """A new stream session (after a connect): earlier fragments no longer apply."""
        with self._lock:
            channel = self._channels.setdefault(camera_id, _Channel())
            channel.session += 1
            channel.init = init
            channel.fragments.clear()

    def publish(self, camera_id: int, data: bytes, start: float) -> None:
        with self._lock:
            channel = self._channels.get(camera_id)
            if channel is None or channel.init is None:
                return
            channel.fragments.append(Fragment(channel.next_seq, data, start))
            channel.next_seq += 1

    def end(self, camera_id: int) -> None:
        with self._lock:
            channel = self._channels.get(camera_id)
            if channel is not None:
                channel.session += 1
                channel.init = None
                channel.fragments.clear()

    def join(self, camera_id: int) -> tuple[LiveView, Fragment] | None:
        """Start watching: the init segment and the newest fragment, or None when offline."""
        with self._lock:
            channel = self._channels.get(camera_id)
            if channel is None or channel.init is None or not channel.fragments:
                return None
            newest = channel.fragments[-1]
            return LiveView(channel.session, channel.init, newest.seq), newest

    def follow(self, camera_id: int, view: LiveView) -> list[Fragment] | None:
        """Fragments after the viewer's last one; None once that stream session is over."""
        with self._lock:
            channel = self._channels.get(camera_id)
            if channel is None or channel.session != view.session:
                return None
            return [f for f in channel.fragments if f.seq > view.seq]


class LiveFeed(Protocol):
    """What one viewer is sent: an endless fragmented MP4, from ``start`` (epoch seconds)."""

    @property
    def start(self) -> float: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    def close(self) -> None: ...


@dataclass
class HubFeed:
    """A camera recorded by this process: the init segment and the newest fragment, then
    each new fragment; it ends when the camera's stream session does."""

    hub: LiveHub
    camera_id: int
    view: LiveView
    first: Fragment

    @property
    def start(self) -> float:
        return self.first.start

    async def chunks(self) -> AsyncIterator[bytes]:
        yield self.view.init + self.first.data
        seq = self.view.seq
        while True:
            view = LiveView(self.view.session, self.view.init, seq)
            fragments = self.hub.follow(self.camera_id, view)
            if fragments is None:  # the camera dropped: the viewer reconnects
                return
            for fragment in fragments:
                seq = fragment.seq
                yield fragment.data
            await asyncio.sleep(POLL_S)

    def close(self) -> None:
        return None


def hub_feed(hub: LiveHub, camera_id: int) -> HubFeed | None:
    joined = hub.join(camera_id)
    return None if joined is None else HubFeed(hub, camera_id, *joined)
