"""Comparing descriptors: Euclidean distance, a similarity score, and a decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

# dlib's published operating point for this model until `vigil faces calibrate` sets one.
DEFAULT_THRESHOLD = 0.6


@dataclass(frozen=True, slots=True)
class Comparison:
    distance: float
    similarity: float
    threshold: float

    @property
    def same(self) -> bool:
        return self.distance <= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "distance": round(self.distance, 4),
            "similarity": round(self.similarity, 4),
            "threshold": self.threshold,
            "same_person": self.same,
        }


def distance(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))


def similarity(dist: float, scale: float = 1.0) -> float:
    """1.0 for identical descriptors, 0.0 at distance 1/scale and beyond (dlib's, scale 1:
    typical same person 0.5-0.7, different people below 0.4). Each embedder's calibration
    gives its scale (``Calibration.similarity_scale``)."""
    return max(0.0, 1.0 - dist * scale)


def compare(
    a: NDArray[np.float32], b: NDArray[np.float32], threshold: float, scale: float = 1.0
) -> Comparison:
    dist = distance(a, b)
    return Comparison(distance=dist, similarity=similarity(dist, scale), threshold=threshold)
