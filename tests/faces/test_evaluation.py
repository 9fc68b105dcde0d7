"""Verification metrics with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.faces.evaluation import (
    accuracy,
    best_threshold,
    cross_validate,
    equal_error_rate,
    tar_at_far,
    threshold_at_fmr,
)

D = np.array([0.2, 0.3, 0.45, 0.5, 0.55, 0.7, 0.8, 0.9])
SAME = np.array([True, True, True, False, True, False, False, False])


def test_accuracy_counts_decisions() -> None:
    assert accuracy(D, SAME, 0.46) == pytest.approx(7 / 8)
    assert accuracy(D, SAME, 0.6) == pytest.approx(7 / 8)
    assert accuracy(D, SAME, 0.1) == pytest.approx(4 / 8)


def test_best_threshold_maximises_accuracy() -> None:
    threshold = best_threshold(D, SAME)
    assert accuracy(D, SAME, threshold) == pytest.approx(7 / 8)
    assert threshold == pytest.approx(0.475)  # the first of the two best gaps


def test_perfectly_separable_scores_reach_full_accuracy() -> None:
    d = np.array([0.1, 0.2, 0.7, 0.8])
    same = np.array([True, True, False, False])
    assert accuracy(d, same, best_threshold(d, same)) == 1.0


def test_cross_validation_picks_each_threshold_on_the_other_folds() -> None:
    separable = (np.array([0.1, 0.2, 0.8, 0.9]), np.array([True, True, False, False]))
    flipped = (np.array([0.1, 0.9]), np.array([False, True]))
    result = cross_validate([separable, separable, flipped])
    assert result.accuracies == [1.0, 1.0, 0.0]
    assert result.mean == pytest.approx(2 / 3)
    assert result.std == pytest.approx(np.std([1.0, 1.0, 0.0]))


@pytest.mark.parametrize(("fmr", "threshold"), [(0.25, 0.6), (0.5, 0.75), (0.0, 0.5 - 1e-9)])
def test_threshold_at_fmr(fmr: float, threshold: float) -> None:
    impostor = np.array([0.5, 0.7, 0.8, 0.9])
    assert threshold_at_fmr(impostor, fmr) == pytest.approx(threshold)
    assert np.mean(impostor <= threshold) <= fmr


def test_tar_at_far_and_eer() -> None:
    tar, threshold = tar_at_far(D, SAME, 0.25)
    assert threshold == pytest.approx(0.6)
    assert tar == 1.0
    eer, at = equal_error_rate(D, SAME)
    assert eer == pytest.approx(0.25)
    assert 0.45 < at < 0.55
