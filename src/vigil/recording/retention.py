"""Retention: delete the oldest segments by age, disk budget and free space, never held ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from vigil.recording.index import Segment, SegmentIndex
from vigil.recording.media import MediaStore

logger = logging.getLogger(__name__)

BATCH = 200


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    retain_days: float
    max_bytes: int | None
    # Free space retention tries to restore before recording runs out of room.
    free_target_bytes: int


@dataclass
class PruneResult:
    segments: int = 0
    bytes: int = 0
    oldest_deleted: datetime | None = None
    newest_deleted: datetime | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "segments": self.segments,
            "bytes": self.bytes,
            "oldest_deleted": None
            if self.oldest_deleted is None
            else self.oldest_deleted.isoformat(),
            "newest_deleted": None
            if self.newest_deleted is None
            else self.newest_deleted.isoformat(),
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class Retention:
    def __init__(self, index: SegmentIndex, store: MediaStore, policy: RetentionPolicy) -> None:
        self.index = index
        self.store = store
        self.policy = policy

    def prune(self, now: datetime) -> PruneResult:
        """One pass: first everything past its age, then the oldest while over budget."""
        result = PruneResult()
        cutoff = now - timedelta(days=self.policy.retain_days)
        while batch := self.index.oldest_unheld(BATCH, before=cutoff):
            self._delete(batch, result)
        excess = self._excess_bytes()
        while excess > 0 and (batch := self.index.oldest_unheld(BATCH)):
            chosen = []
            for segment in batch:
                if excess <= 0:
                    break
                chosen.append(segment)
                excess -= segment.bytes
            self._delete(chosen, result)
        return result

    def _excess_bytes(self) -> int:
        """How much must go to be within the disk budget and the free-space target."""
        excess = self.policy.free_target_bytes - self.store.free_bytes()
        if self.policy.max_bytes is not None:
            excess = max(excess, self.index.total_bytes() - self.policy.max_bytes)
        return excess

    def _delete(self, batch: list[Segment], result: PruneResult) -> None:
        # Rows first: a crash in between leaves an unindexed file, which start-up recovery
        # indexes again and the next pass deletes; never an index entry without its file.
        self.index.remove([s.id for s in batch])
        for segment in batch:
            self.store.delete(segment.path)
            result.segments += 1
            result.bytes += segment.bytes
            if result.oldest_deleted is None or segment.start < result.oldest_deleted:
                result.oldest_deleted = segment.start
            if result.newest_deleted is None or segment.end > result.newest_deleted:
                result.newest_deleted = segment.end
