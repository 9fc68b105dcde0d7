"""People counts of recorded video, at their own rate, in the segment's analysis job.

A count is a number at a moment (``every_s`` apart, from the segment's first frame): the
person detector's boxes are counted and dropped. Nothing else of the frame is kept. Where
face analysis decodes the segment anyway, its frames are counted as they pass
(``CountSampler``), and a frame in which nothing moved since the last count keeps that
count: the same people are there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vigil.analytics.frames import change
from vigil.crowds.detector import PersonDetector
from vigil.recording.playback import recorded_pictures


@dataclass(frozen=True, slots=True)
class Count:
    at: float  # epoch seconds
    people: int


class PeopleCounter:
    def __init__(self, detector: PersonDetector, every_s: float, threads: int = 0) -> None:
        self.detector = detector
        self.every_s = every_s
        self.threads = threads

    def count(self, path: Path, origin: float) -> list[Count]:
        """Counts of the video at ``path`` whose first frame was recorded at ``origin``."""
        pictures = recorded_pictures(path, origin, 1.0 / self.every_s, self.threads)
        return [Count(p.at, len(self.detector.people(p.rgb))) for p in pictures]

    def sampler(
        self, origin: float, motion_threshold: float, every_s: float | None = None
    ) -> CountSampler:
        """Counts of frames another pass decodes, for a video first recorded at ``origin``,
        one every ``every_s`` (default: the counter's); a frame whose thumbnail changed
        less than ``motion_threshold`` (mean absolute change, 0-255) since the last
        count's keeps that count."""
        return CountSampler(self, origin, motion_threshold, every_s or self.every_s)


@dataclass
class CountSampler:
    """Takes a count from the first frame offered at or after each ``every_s``."""

    counter: PeopleCounter
    origin: float
    motion_threshold: float
    every_s: float
    counts: list[Count] = field(default_factory=list)
    reused: int = 0  # counts kept from the count before: nothing had moved since
    _due: float = 0.0
    _thumb: NDArray[np.float32] | None = None  # the last counted frame's

    def offer(
        self, t: float, thumb: NDArray[np.float32], rgb: Callable[[], NDArray[np.uint8]]
    ) -> None:
        """A sampled frame ``t`` seconds into the video, with its gray thumbnail; ``rgb``
        converts it (only if it is counted)."""
        if t + 1e-6 < self._due:
            return
        while self._due <= t + 1e-6:  # counts stay on their grid, every_s apart
            self._due += self.every_s
        last, self._thumb = self._thumb, thumb
        if last is not None and change(thumb, last) < self.motion_threshold:
            people = self.counts[-1].people
            self.reused += 1
        else:
            people = len(self.counter.detector.people(rgb()))
        self.counts.append(Count(self.origin + t, people))
