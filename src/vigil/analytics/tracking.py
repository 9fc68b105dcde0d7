"""A greedy IoU tracker: a face in consecutive sampled frames is one track.

At a few frames per second faces move little between samples, so overlap is enough;
a track ends when it has not been seen for ``max_gap_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from vigil.faces.model import Box

T = TypeVar("T")


@dataclass
class Track(Generic[T]):
    id: int
    first_t: float
    last_t: float
    box: Box
    items: list[T] = field(default_factory=list)  # what the caller keeps per sighting


class IouTracker(Generic[T]):
    def __init__(self, *, min_iou: float = 0.2, max_gap_s: float = 1.0) -> None:
        self.min_iou = min_iou
        self.max_gap_s = max_gap_s
        self.active: list[Track[T]] = []
        self._next_id = 1

    def update(self, t: float, boxes: list[Box]) -> tuple[list[Track[T]], list[Track[T]]]:
        """Assign boxes seen at time t to tracks: (the track of each box, tracks that ended)."""
        ended = [track for track in self.active if t - track.last_t > self.max_gap_s]
        self.active = [track for track in self.active if track not in ended]
        pairs = sorted(
            (
                (box.iou(track.box), i, j)
                for i, box in enumerate(boxes)
                for j, track in enumerate(self.active)
            ),
            reverse=True,
        )
        assigned: dict[int, Track[T]] = {}
        taken: set[int] = set()
        for overlap, i, j in pairs:
            if overlap < self.min_iou:
                break
            if i in assigned or j in taken:
                continue
            assigned[i] = self.active[j]
            taken.add(j)
        result = []
        for i, box in enumerate(boxes):
            track = assigned.get(i)
            if track is None:
                track = Track(self._next_id, t, t, box)
                self._next_id += 1
                self.active.append(track)
            track.last_t, track.box = t, box
            result.append(track)
        return result, ended

    def finish(self) -> list[Track[T]]:
        """End every track (the video is over)."""
        ended, self.active = self.active, []
        return ended
