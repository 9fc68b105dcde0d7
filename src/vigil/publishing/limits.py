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
    what: str = "public requests"  # what is counted, as a refusal names it


class ClientLimiter:
    def __init__(self, limits: ClientLimits) -> None:
        self.limits = limits
        self._requests: dict[str, deque[float]] = {}
        self._streams: dict[str, int] = {}
        self._refused: dict[str, float] = {}  # the window each client was last refused in
        self._lock = threading.Lock()

    def request(self, client: str) -> None:
        """Count one request of the client; TooManyAttempts past its share of the minute."""
        with self._lock:
            now = time.monotonic()
            recent = self._recent(client, now)
            self._refuse_over(recent, now)
            recent.append(now)

    def check(self, client: str) -> None:
        """TooManyAttempts if the client has used its share of the minute, without counting
        this call (count what the share is of with ``request``). The refusal's ``first``
        field says whether it is the first since the client's share ran out."""
        with self._lock:
            now = time.monotonic()
            recent = self._recent(client, now)
            try:
                self._refuse_over(recent, now)
            except TooManyAttempts as exc:
                exc.fields["first"] = self._refused.get(client) != recent[0]
                self._refused[client] = recent[0]
                raise

    def _recent(self, client: str, now: float) -> deque[float]:
        for other in [c for c, q in self._requests.items() if not q or q[-1] <= now - WINDOW_S]:
            del self._requests[other]  # forget clients quiet for a minute
            self._refused.pop(other, None)
        recent = self._requests.setdefault(client, deque())
        while recent and recent[0] <= now - WINDOW_S:
            recent.popleft()
        return recent

    def _refuse_over(self, recent: deque[float], now: float) -> None:
        if len(recent) >= self.limits.requests_per_minute:
            wait = math.ceil(recent[0] + WINDOW_S - now)
            raise TooManyAttempts(
                f"at most {self.limits.requests_per_minute} {self.limits.what} a minute; "
                f"retry in {wait} s",
                retry_after_s=max(1, wait),
            )

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
