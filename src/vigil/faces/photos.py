"""Uploaded photos for face work, bounded so that no caller can exhaust the process.

Decoding is capped by pixel count (``ImageLimits``); detection runs on a scaled-down copy
(``FaceEngine``). Here: at most ``concurrent`` photos are decoded and analysed at once in
this process (a caller waits up to ``wait_s`` for a turn, then gets ``Busy``), and each user
may send ``per_minute`` photos a minute (then ``TooManyAttempts``). Both refusals happen
before any pixel is decoded, inside the caller's audited attempt.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager

from vigil.auth.roles import RequestContext
from vigil.errors import Busy, TooManyAttempts
from vigil.faces.images import ImageLimits

WINDOW_S = 60.0


class Photos:
    def __init__(
        self,
        limits: ImageLimits,
        *,
        concurrent: int = 2,
        wait_s: float = 1.0,
        per_minute: int = 30,
    ) -> None:
        self.limits = limits
        self.wait_s = wait_s
        self.per_minute = per_minute
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._sent: defaultdict[str, deque[float]] = defaultdict(deque)

    def _count(self, who: str, photos: int) -> None:
        now = time.monotonic()
        with self._lock:
            sent = self._sent[who]
            while sent and sent[0] <= now - WINDOW_S:
                sent.popleft()
            if len(sent) + photos > self.per_minute:
                wait = math.ceil(sent[0] + WINDOW_S - now) if sent else math.ceil(WINDOW_S)
                raise TooManyAttempts(
                    f"{who} may send {self.per_minute} photos a minute; try again in {wait} s",
                    retry_after_s=max(wait, 1),
                )
            sent.extend([now] * photos)

    @contextmanager
    def working(self, ctx: RequestContext, photos: int = 1) -> Iterator[None]:
        """A turn to decode and analyse ``photos`` uploaded photos of ``ctx``'s caller."""
        self._count(ctx.principal.name, photos)
        if not self._slots.acquire(timeout=self.wait_s):
            raise Busy(
                "face analysis is at its limit of photos at once; try again shortly",
                retry_after_s=1,
            )
        try:
            yield
        finally:
            self._slots.release()
