"""Face tracks that hold one person: a face joins a track only if its box *and* its
descriptor fit.

At a few frames per second faces move little between samples, so a face whose box
overlaps a track's last box may continue it, but only when its descriptor is within
``link_distance`` of the track's recent descriptors: a stranger stepping into the spot
where someone stood starts a track of their own. A shot cut (the caller sees the whole
frame change) ends every track. After a track ends, ``split_identities`` cuts it where the
mean descriptor before and after a point differ as two people's do, which catches a slow
drift that no single frame shows. A track ends when it was not seen for ``max_gap_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from vigil.faces.model import Box

T = TypeVar("T")
Vector = NDArray[np.float32]
RECENT = 3  # descriptors of a track that a new face is compared with (their mean)


@dataclass
class Track(Generic[T]):
    id: int
    first_t: float
    last_t: float
    box: Box
    items: list[T] = field(default_factory=list)  # what the caller keeps per face
    recent: list[Vector] = field(default_factory=list)  # the last RECENT descriptors

    def distance(self, descriptor: Vector) -> float:
        """How far a face is from this track's recent appearance."""
        mean = np.mean(self.recent, axis=0)
        return float(np.linalg.norm(mean - descriptor))


class FaceTracker(Generic[T]):
    def __init__(
        self, *, min_iou: float = 0.2, max_gap_s: float = 1.0, link_distance: float = 0.5
    ) -> None:
        self.min_iou = min_iou
        self.max_gap_s = max_gap_s
        self.link_distance = link_distance
        self.active: list[Track[T]] = []
        self._next_id = 1

    def update(
        self, t: float, boxes: list[Box], descriptors: list[Vector]
    ) -> tuple[list[Track[T]], list[Track[T]]]:
        """Assign faces seen at time t to tracks: (the track of each face, tracks that ended)."""
        ended = [track for track in self.active if t - track.last_t > self.max_gap_s]
        self.active = [track for track in self.active if track not in ended]
        pairs = []
        for i, (box, descriptor) in enumerate(zip(boxes, descriptors, strict=True)):
            for j, track in enumerate(self.active):
                if box.iou(track.box) < self.min_iou:
                    continue
                apart = track.distance(descriptor)
                if apart <= self.link_distance:
                    pairs.append((apart, i, j))
        assigned: dict[int, Track[T]] = {}
        taken: set[int] = set()
        for _, i, j in sorted(pairs):  # the most alike first
            if i in assigned or j in taken:
                continue
            assigned[i] = self.active[j]
            taken.add(j)
        result = []
        for i, (box, descriptor) in enumerate(zip(boxes, descriptors, strict=True)):
            track = assigned.get(i) or self._start(t, box)
            track.last_t, track.box = t, box
            track.recent = [*track.recent[-(RECENT - 1) :], descriptor]
            result.append(track)
        return result, ended

    def _start(self, t: float, box: Box) -> Track[T]:
        track: Track[T] = Track(self._next_id, t, t, box)
        self._next_id += 1
        self.active.append(track)
        return track

    def end(self, track: Track[T]) -> None:
        """End one track now (it has grown as long as a sighting may be)."""
        self.active.remove(track)

    def finish(self) -> list[Track[T]]:
        """End every track (a shot cut, or the video is over)."""
        ended, self.active = self.active, []
        return ended


def split_identities(
    descriptors: Vector, *, min_run: int = 3, split_distance: float = 0.4
) -> list[tuple[int, int]]:
    """Runs [start, end) of a track's faces (in time order) that each hold one person.

    A run is cut at the point where the mean descriptors before and after it are furthest
    apart, if that is beyond ``split_distance`` (different people's means are further
    apart than one person's), then each part is looked at again. Parts shorter than
    ``min_run`` faces are too noisy to judge and are not cut further.
    """
    runs: list[tuple[int, int]] = []
    pending = [(0, len(descriptors))]
    while pending:
        start, end = pending.pop()
        best, at = 0.0, -1
        for k in range(start + min_run, end - min_run + 1):
            before = descriptors[start:k].mean(axis=0)
            after = descriptors[k:end].mean(axis=0)
            apart = float(np.linalg.norm(before - after))
            if apart > best:
                best, at = apart, k
        if best > split_distance:
            pending += [(start, at), (at, end)]
        else:
            runs.append((start, end))
    return sorted(runs)
