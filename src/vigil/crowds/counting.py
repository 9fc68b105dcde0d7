"""People counts of recorded video, at their own rate, in the segment's analysis job.

A count is a number at a moment (``every_s`` apart, from the segment's first frame): the
person detector's boxes are counted and dropped. Nothing else of the frame is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
