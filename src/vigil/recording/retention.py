"""Retention: what may be deleted, in what order, and why.

Three rules, in order:

1. **Age.** Segments past ``retain_days`` go (the legal limit), unless under a hold.
2. **Space.** Vigil's footage works to a budget of its own bytes: what it has recorded plus
   the free space, less the reserve recording never uses, capped by ``max_bytes``. Within
   that budget retention keeps *headroom* free: enough for ``headroom_s`` of writing at the
   measured rate, so a camera's writer never finds the disk full because retention ran
   late. The oldest segments that are not held go first.
3. **Floor.** Space never buys the newest ``floor_s`` of any camera: the segments that
   reach into the last ``floor_s`` of its indexed footage (and the one being written), no
   more, so that a disk just big enough for the floor and the reserve keeps recording.
   When what is left is all floor or held (another program filled the disk, or the disk
   cannot hold the floor), retention stops and says ``disk_pressure``: the archive is
   never emptied for room.

Every pass that deletes is audited once per reason, with the disk's numbers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigil.recording.index import SegmentIndex
from vigil.recording.media import MediaStore
from vigil.recording.records import Segment

logger = logging.getLogger(__name__)

BATCH = 200
RATE_WINDOW_S = 30.0
# A pass every quarter of the headroom written, but not for less than this.
MIN_TRIGGER_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    retain_days: float
    max_bytes: int | None
    # Free space recording never writes into (min_free_bytes).
    reserve_bytes: int
    # Each camera's newest footage that retention never deletes to make room.
    floor_s: float
    # Free space kept beyond the reserve: this many seconds of writing at the current rate.
    headroom_s: float


@dataclass
class Deleted:
    segments: int = 0
    bytes: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None

    def add(self, segment: Segment) -> None:
        self.segments += 1
        self.bytes += segment.bytes
        if self.oldest is None or segment.start < self.oldest:
            self.oldest = segment.start
        if self.newest is None or segment.end > self.newest:
            self.newest = segment.end

    def to_dict(self) -> dict[str, object]:
        return {
            "segments": self.segments,
            "bytes": self.bytes,
            "oldest_deleted": None if self.oldest is None else self.oldest.isoformat(),
            "newest_deleted": None if self.newest is None else self.newest.isoformat(),
        }


@dataclass
class PruneResult:
    # Why -> what went: "age" (past retain_days), "budget" (max_bytes), "free_space".
    deleted: dict[str, Deleted] = field(default_factory=dict)
    free_bytes: int = 0
    recorded_bytes: int = 0
    wanted_free_bytes: int = 0
    # Why retention could not make the room it wanted; None when it could.
    pressure: str | None = None

    @property
    def segments(self) -> int:
        return sum(d.segments for d in self.deleted.values())

    def disk(self) -> dict[str, object]:
        return {
            "free_bytes": self.free_bytes,
            "recorded_bytes": self.recorded_bytes,
            "wanted_free_bytes": self.wanted_free_bytes,
        }


class WriteMeter:
    """Bytes written by every camera: the rate retention plans for, and its wake-up call.

    ``due`` is set once a quarter of the headroom has been written since the last pass (and
    when a writer found the disk full), so retention runs ahead of need, not on a timer.
    """

    def __init__(self) -> None:
        self.due = threading.Event()
        self.trigger_bytes = MIN_TRIGGER_BYTES
        self._lock = threading.Lock()
        self._seconds: deque[list[int]] = deque()  # [whole second, bytes written in it]
        self._since_pass = 0

    def add(self, size: int) -> None:
        second = int(time.monotonic())
        with self._lock:
            if self._seconds and self._seconds[-1][0] == second:
                self._seconds[-1][1] += size
            else:
                self._seconds.append([second, size])
            self._since_pass += size
            if self._since_pass >= self.trigger_bytes:
                self.due.set()

    def rate_bps(self) -> float:
        """Bytes per second over the last half minute."""
        now = time.monotonic()
        with self._lock:
            while self._seconds and self._seconds[0][0] < now - RATE_WINDOW_S:
                self._seconds.popleft()
            if not self._seconds:
                return 0.0
            span = max(now - self._seconds[0][0], 1.0)
            return sum(n for _, n in self._seconds) / span

    def passed(self, headroom_bytes: int) -> None:
        """A pass has run: count afresh towards the next one."""
        with self._lock:
            self._since_pass = 0
            self.trigger_bytes = max(MIN_TRIGGER_BYTES, headroom_bytes // 4)
            self.due.clear()


# An analysis stream's segment is kept this long after its analysis (a retried job finds
# it); the sightings hold what it showed, and it is never played.
ANALYSIS_KEEP = timedelta(minutes=10)


class Retention:
    def __init__(self, index: SegmentIndex, store: MediaStore, policy: RetentionPolicy) -> None:
        self.index = index
        self.store = store
        self.policy = policy

    def prune(self, now: datetime, write_bps: float = 0.0) -> PruneResult:
        """One pass: analysis streams' segments analysed a while ago, everything past its
        age, then the oldest while over the space budget."""
        result = PruneResult()
        while batch := self.index.spent_analysis(now - ANALYSIS_KEEP, BATCH):
            self._delete(batch, result, "analysed")
        cutoff = now - timedelta(days=self.policy.retain_days)
        while batch := self.index.oldest_unheld(BATCH, before=cutoff):
            self._delete(batch, result, "age")
        self._make_room(result, write_bps)
        return result

    def _make_room(self, result: PruneResult, write_bps: float) -> None:
        policy = self.policy
        recorded = self.index.total_bytes()
        free = self.store.free_bytes()
        budget = recorded + free - policy.reserve_bytes  # the most Vigil's footage may take
        why = "free_space"
        if policy.max_bytes is not None and policy.max_bytes < budget:
            budget, why = policy.max_bytes, "budget"
        # Never plan to keep more than half the budget empty (a small disk, a fast site).
        headroom = min(int(write_bps * policy.headroom_s), max(budget, 0) // 2)
        excess = recorded + headroom - budget
        floors = {
            camera: newest - timedelta(seconds=policy.floor_s)
            for camera, newest in self.index.newest_ends().items()
        }
        after: Segment | None = None
        while excess > 0 and (batch := self.index.oldest_unheld(BATCH, after=after)):
            after = batch[-1]
            chosen = []
            for segment in batch:
                if excess <= 0:
                    break
                floor = floors.get(segment.camera_id)
                if floor is not None and segment.end > floor:
                    continue  # the camera's newest footage: never deleted for room
                chosen.append(segment)
                excess -= segment.bytes
            if chosen:
                self._delete(chosen, result, why)
        freed = result.deleted[why].bytes if why in result.deleted else 0
        result.recorded_bytes = recorded - freed
        result.free_bytes = self.store.free_bytes()
        result.wanted_free_bytes = policy.reserve_bytes + headroom
        if excess > 0:
            result.pressure = (
                f"{_size(excess)} short of the room recording needs, and all that is left is "
                f"each camera's newest {_span(policy.floor_s)} or held"
            )

    def _delete(self, batch: list[Segment], result: PruneResult, why: str) -> None:
        # Rows first: a crash in between leaves an unindexed file, which start-up recovery
        # indexes again and the next pass deletes; never an index entry without its file.
        self.index.remove([s.id for s in batch])
        deleted = result.deleted.setdefault(why, Deleted())
        for segment in batch:
            self.store.delete(segment.path)
            deleted.add(segment)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{max(1, n // 1024)} KiB"


def _span(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
