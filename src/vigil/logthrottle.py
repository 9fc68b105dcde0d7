"""Logs that repeat (a full disk, a camera that keeps failing) at most once a minute per kind.

A failure that repeats every request or every second must not flood the log, least of all
onto the disk that is already full; the line that follows a quiet spell says how many like
it were held back.
"""

from __future__ import annotations

import logging
import threading
import time

INTERVAL_S = 60.0


class Throttle:
    def __init__(self, logger: logging.Logger, interval_s: float = INTERVAL_S) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(
        self,
        level: int,
        key: str,
        message: str,
        *args: object,
        exc_info: BaseException | None = None,
    ) -> bool:
        """Log unless a line of this key was logged within the interval; True if logged."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval_s:
                self._held[key] = self._held.get(key, 0) + 1
                return False
            self._last[key] = now
            held = self._held.pop(key, 0)
        if held:
            message += f" ({held} more like this in the last {now - (last or now):.0f} s)"
        self.logger.log(level, message, *args, exc_info=exc_info)
        return True

    def reset(self, key: str) -> None:
        """The condition is over: its next occurrence is logged at once."""
        with self._lock:
            self._last.pop(key, None)
            self._held.pop(key, None)
