"""The public path's limits per client (its address): requests a minute and open streams.

The public is anonymous, so each client address gets a small share: enough to watch a
few cameras, never enough for one client to take the server's rendering or bandwidth.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from vigil.errors import TooManyAttempts

WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class ClientLimits:
    requests_per_minute: int = 60
    streams: int = 2


class ClientLimiter:
    def __init__(self, limits: ClientLimits) -> None:
        self.limits = limits
        self._requests: dict[str, deque[float]] = {}
        self._streams: dict[str, int] = {}
        self._lock = threading.Lock()

    def request(self, client: str) -> None:
        """Count one request of the client; TooManyAttempts past its share of the minute."""
        now = time.monotonic()
        with self._lock:
            for other in [c for c, q in self._requests.items() if q[-1] <= now - WINDOW_S]:
                del self._requests[other]  # forget clients quiet for a minute
            recent = self._requests.setdefault(client, deque())
            while recent and recent[0] <= now - WINDOW_S:
                recent.popleft()
            if len(recent) >= self.limits.requests_per_minute:
                wait = math.ceil(recent[0] + WINDOW_S - now)
                raise TooManyAttempts(
                    f"at most {self.limits.requests_per_minute} public requests a minute; "
                    f"retry in {wait} s",
                    retry_after_s=max(1, wait),
                )
            recent.append(now)

    @contextmanager
    def stream(self, client: str) -> Iterator[None]:
        """Hold one of the client's open streams while the block lasts."""
        with self._lock:
            if self._streams.get(client, 0) >= self.limits.streams:
                raise TooManyAttempts(
                    f"at most {self.limits.streams} public streams at once from one client",
                    retry_after_s=10,
                )
            self._streams[client] = self._streams.get(client, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._streams[client] - 1
                if left:
                    self._streams[client] = left
                else:
                    del self._streams[client]
