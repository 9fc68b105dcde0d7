"""Comparison arithmetic and quality measures, with worked numbers."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.faces.compare import compare
from vigil.faces.quality import Quality, QualityBar, frontalness, sharpness


@pytest.mark.parametrize(
    ("offset", "distance", "similarity", "same"),
    [
        (0.0, 0.0, 1.0, True),
        (0.3, 0.3, 0.7, True),
        (0.59, 0.59, 0.41, True),
        (0.61, 0.61, 0.39, False),
        (1.5, 1.5, 0.0, False),
    ],
)
def test_distance_similarity_and_decision(
    offset: float, distance: float, similarity: float, same: bool
) -> None:
    a = np.zeros(128, dtype=np.float32)
    b = a.copy()
    b[0] = offset
    result = compare(a, b, threshold=0.6)
    assert result.distance == pytest.approx(distance, abs=1e-6)
    assert result.similarity == pytest.approx(similarity, abs=1e-6)
    assert result.same is same


@pytest.mark.parametrize(
    ("nose_x", "expected"), [(50.0, 1.0), (72.5, 0.5), (27.5, 0.5), (95.0, 0.0), (-20.0, 0.0)]
)
def test_frontalness_follows_the_nose_between_the_eyes(nose_x: float, expected: float) -> None:
    # eye centres at x=5 and x=95
    points = np.array([[0, 0], [10, 0], [90, 0], [100, 0], [nose_x, 30]], dtype=np.float64)
    assert frontalness(points) == pytest.approx(expected)


def test_a_blurred_chip_is_less_sharp() -> None:
    rng = np.random.default_rng(7)
    crisp = rng.integers(0, 256, (150, 150, 3)).astype(np.uint8)
    blurred = (
        (crisp[:-1, :-1].astype(int) + crisp[1:, 1:] + crisp[:-1, 1:] + crisp[1:, :-1]) // 4
    ).astype(np.uint8)
    assert sharpness(blurred) < sharpness(crisp) / 4
    assert sharpness(np.full((150, 150, 3), 9, dtype=np.uint8)) == 0.0


@pytest.mark.parametrize(
    ("quality", "passes"),
    [
        (Quality(face_px=100, sharpness=100.0, frontalness=0.9), True),
        (Quality(face_px=30, sharpness=100.0, frontalness=0.9), False),
        (Quality(face_px=100, sharpness=3.0, frontalness=0.9), False),
        (Quality(face_px=100, sharpness=100.0, frontalness=0.1), False),
    ],
)
def test_the_quality_bar(quality: Quality, passes: bool) -> None:
    assert QualityBar().passes(quality) is passes
    assert bool(QualityBar().failures(quality)) is not passes


def test_a_failure_names_the_measure_and_its_bar() -> None:
    quality = Quality(face_px=30, sharpness=2.5, frontalness=0.9)
    assert QualityBar().failures(quality) == ["face size (px) 30 < 40", "sharpness 2.5 < 4"]
