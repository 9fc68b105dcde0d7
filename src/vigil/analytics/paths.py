"""Where a sighting's face was, face by face: its track's path, kept with the sighting so
that an export can leave that one person visible and blur everyone else (``--only-subject``).

A path holds the box of every face its track joined, at the time it was sampled (seconds
after the sighting's start), in fractions of the analysed frame's width and height, so a
sighting seen on a camera's analysis stream maps onto the main stream's frames too. It is
stored as little-endian float32 rows (t, left, top, right, bottom): 20 bytes a face, at most
``max_track_faces`` a sighting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

PathPoints = NDArray[np.float32]  # (faces, 5): t, left, top, right, bottom
Box = tuple[float, float, float, float]  # left, top, right, bottom, in pixels
COLUMNS = 5


def path_points(points: list[tuple[float, Box]], width: int, height: int) -> PathPoints:
    """The path of faces seen at times ``t`` (seconds after the first) in boxes of a
    width x height frame."""
    rows = [
        (t, left / width, top / height, right / width, bottom / height)
        for t, (left, top, right, bottom) in points
    ]
    return np.array(rows, dtype=np.float32).reshape(-1, COLUMNS)


def encode_path(points: PathPoints) -> bytes:
    return points.astype("<f4").tobytes()


def decode_path(data: bytes) -> PathPoints:
    return np.frombuffer(data, dtype="<f4").reshape(-1, COLUMNS).astype(np.float32)


@dataclass(frozen=True, slots=True)
class FacePath:
    """A stored sighting's path, in wall-clock time."""

    sighting_id: int
    start: float  # epoch seconds of the first face
    points: PathPoints

    @classmethod
    def of(cls, sighting_id: int, start: datetime, data: bytes) -> FacePath:
        return cls(sighting_id, start.timestamp(), decode_path(data))

    def box_at(self, t: float, width: int, height: int, reach: float) -> Box | None:
        """The face's box at ``t`` (epoch seconds) in a width x height frame: between two of
        the track's faces, where it was in between (linearly); within ``reach`` seconds of
        one of its faces, there; else None (the track does not say where it was)."""
        times = self.points[:, 0].astype(np.float64) + self.start  # float32 holds no epoch
        if t < times[0] - reach or t > times[-1] + reach:
            return None
        after = int(np.searchsorted(times, t))
        if after == 0 or after == len(times):
            row = self.points[min(after, len(times) - 1), 1:]
        else:
            before_t, after_t = float(times[after - 1]), float(times[after])
            share = 0.0 if after_t <= before_t else (t - before_t) / (after_t - before_t)
            row = (1 - share) * self.points[after - 1, 1:] + share * self.points[after, 1:]
        left, top, right, bottom = (float(v) for v in row)
        return (left * width, top * height, right * width, bottom * height)
