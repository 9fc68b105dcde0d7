"""Verification metrics on pair distances: accuracy, k-fold protocol, TAR at FAR, EER, FMR."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


def _candidates(distances: Floats) -> Floats:
    """Thresholds worth trying: midpoints between sorted distinct distances, and the ends."""
    values = np.unique(distances)
    if values.size == 0:
        return np.array([0.0])
    middle = (values[:-1] + values[1:]) / 2
    return np.concatenate([[values[0] - 1e-9], middle, [values[-1] + 1e-9]])


def accuracy(distances: Floats, same: Bools, threshold: float) -> float:
    """Share of pairs decided right, 'same' meaning distance <= threshold."""
    return float(np.mean((distances <= threshold) == same))


def best_threshold(distances: Floats, same: Bools) -> float:
    """The threshold of highest accuracy (the smallest such, for determinism)."""
    candidates = _candidates(distances)
    order = np.argsort(distances, kind="stable")
    sorted_d, sorted_same = distances[order], same[order]
    # accepted genuine and rejected impostor counts for every candidate at once
    accepted = np.searchsorted(sorted_d, candidates, side="right")
    genuine_ok = np.concatenate([[0], np.cumsum(sorted_same)])[accepted]
    impostor_total = int((~same).sum())
    impostor_accepted = accepted - genuine_ok
    correct = genuine_ok + (impostor_total - impostor_accepted)
    return float(candidates[int(np.argmax(correct))])


@dataclass(frozen=True, slots=True)
class FoldResult:
    accuracies: list[float]
    thresholds: list[float]

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies))


def cross_validate(folds: Sequence[tuple[Floats, Bools]]) -> FoldResult:
    """LFW's protocol: for each fold, the threshold is chosen on all the other folds."""
    accuracies, thresholds = [], []
    for k, (test_d, test_same) in enumerate(folds):
        train_d = np.concatenate([d for i, (d, _) in enumerate(folds) if i != k])
        train_same = np.concatenate([s for i, (_, s) in enumerate(folds) if i != k])
        threshold = best_threshold(train_d, train_same)
        thresholds.append(threshold)
        accuracies.append(accuracy(test_d, test_same, threshold))
    return FoldResult(accuracies, thresholds)


def threshold_at_fmr(impostor: Floats, fmr: float) -> float:
    """The largest threshold accepting at most ``fmr`` of impostor pairs."""
    if impostor.size == 0:
        raise ValueError("no impostor pairs to estimate a false match rate from")
    ordered = np.sort(impostor)
    allowed = int(np.floor(fmr * ordered.size))  # impostors that may fall at or below
    if allowed == 0:
        return float(ordered[0] - 1e-9)
    return (
        float((ordered[allowed - 1] + ordered[allowed]) / 2)
        if allowed < ordered.size
        else float(ordered[-1])
    )


def tar_at_far(distances: Floats, same: Bools, far: float) -> tuple[float, float]:
    """(true accept rate, threshold) at the threshold whose false accept rate is <= ``far``."""
    threshold = threshold_at_fmr(distances[~same], far)
    return float(np.mean(distances[same] <= threshold)), threshold


def equal_error_rate(distances: Floats, same: Bools) -> tuple[float, float]:
    """(EER, threshold) where false rejects and false accepts are closest.

    Every candidate threshold at once (sorted counts), so millions of pairs take seconds.
    """
    genuine, impostor = np.sort(distances[same]), np.sort(distances[~same])
    candidates = _candidates(distances)
    frr = 1.0 - np.searchsorted(genuine, candidates, side="right") / max(genuine.size, 1)
    far = np.searchsorted(impostor, candidates, side="right") / max(impostor.size, 1)
    best = int(np.argmin(np.abs(frr - far)))  # the first (smallest) of equal gaps
    return float((frr[best] + far[best]) / 2), float(candidates[best])
