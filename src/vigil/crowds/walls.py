"""An event's wall, audited once per sitting: its page reads the event every 5 s, and an
entry per read would be 720 an hour of nothing but counts.

A sitting is one person's reads of one event with no gap of GAP_S or more. Its first read
is on record as it happens (``event.show``, opened); the reads that follow are checked for
permission each time but only counted, and the sitting's close is on record with the count
and its span (``event.wall.close``) once a read after the gap, any other wall read, or
shutdown finds it over. Counts hold no personal data, so nothing is lost by this.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vigil.auth.access import Access
from vigil.auth.roles import RequestContext

GAP_S = 30.0


@dataclass
class _Sitting:
    ctx: RequestContext  # the first read's: the close is recorded under it
    opened: datetime
    last: datetime
    reads: int = 1


class WallSittings:
    def __init__(self, access: Access, gap_s: float = GAP_S) -> None:
        self.access = access
        self.gap = timedelta(seconds=gap_s)
        self._open: dict[tuple[str, int], _Sitting] = {}
        self._lock = threading.Lock()

    def read(self, ctx: RequestContext, event_id: int) -> None:
        """One allowed read of the event: on record if it opens a sitting, else counted."""
        now = datetime.now(UTC)
        key = (ctx.principal.name, event_id)
        with self._lock:
            over = [(k, s) for k, s in self._open.items() if s.last <= now - self.gap]
            for done, _ in over:
                del self._open[done]
            sitting = self._open.get(key)
            if sitting is not None:
                sitting.reads += 1
                sitting.last = now
            else:
                self._open[key] = _Sitting(ctx, now, now)
        for done, ended in over:
            self._record_close(done[1], ended)
        if sitting is None:
            details = {"wall": "opened", "gap_s": self.gap.total_seconds()}
            self.access.record_alone(ctx, "event.show", f"event:{event_id}", details)

    def close(self) -> None:
        """Put every open sitting's close on record (at shutdown)."""
        with self._lock:
            ended, self._open = list(self._open.items()), {}
        for (_, event_id), sitting in ended:
            self._record_close(event_id, sitting)

    def _record_close(self, event_id: int, sitting: _Sitting) -> None:
        details = {
            "opened": sitting.opened.isoformat(),
            "last_read": sitting.last.isoformat(),
            "reads": sitting.reads,
        }
        self.access.record_alone(sitting.ctx, "event.wall.close", f"event:{event_id}", details)
