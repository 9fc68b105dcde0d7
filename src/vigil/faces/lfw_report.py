"""``eval-lfw`` and ``calibrate``: descriptors for the listed images, then the metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigil.config import FacesConfig
from vigil.errors import InvalidInput
from vigil.faces.calibration import Calibration
from vigil.faces.evaluation import (
    accuracy,
    best_threshold,
    cross_validate,
    equal_error_rate,
    tar_at_far,
    threshold_at_fmr,
)
from vigil.faces.lfw import Described, ImageKey, PairList, describe_all, pair_distances, parse_pairs

NO_FACE_HANDLING = "centre crop: landmarks fitted to the central 45% of the image, then embedded"
Progress = Callable[[int], None]


def read_pairs(path: Path) -> PairList:
    try:
        return parse_pairs(path.read_text(encoding="utf-8"), source=str(path))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    upsample: int = 1
    flip: bool = True
    workers: int = 2
    detector: str = "yunet"
    embedder: str = "onnx"

    @classmethod
    def of(cls, config: FacesConfig, workers: int, upsample: int | None = None) -> Settings:
        return cls(
            upsample=config.upsample if upsample is None else upsample,
            flip=config.flip_average,
            workers=workers,
            detector=config.detector,
            embedder=config.embedder,
        )


def _describe(
    images: Path, lists: list[PairList], settings: Settings, start: Callable[[int], Progress]
) -> tuple[dict[ImageKey, Described], float]:
    keys = sorted({k for pairs in lists for k in pairs.images()})
    began = time.perf_counter()
    described = describe_all(
        images,
        keys,
        upsample=settings.upsample,
        flip=settings.flip,
        workers=settings.workers,
        detector=settings.detector,
        embedder=settings.embedder,
        progress=start(len(keys)),
    )
    return described, time.perf_counter() - began


def evaluate(
    images: Path,
    pairs_file: Path,
    train_file: Path | None,
    settings: Settings,
    start: Callable[[int], Progress],
) -> dict[str, Any]:
    """LFW verification: 10-fold on a View 2 file; else threshold from ``train_file``."""
    test = read_pairs(pairs_file)
    train = None if train_file is None else read_pairs(train_file)
    if len(test.folds) == 1 and train is None:
        raise InvalidInput(
            f"{pairs_file} is a single split (View 1): pass --train for the threshold"
        )
    described, seconds = _describe(images, [test] + ([train] if train else []), settings, start)
    all_pairs = test.pairs
    distances = pair_distances(all_pairs, described)
    same = np.array([p.same for p in all_pairs])
    if train is None:
        folds = [
            (pair_distances(fold, described), np.array([p.same for p in fold]))
            for fold in test.folds
        ]
        result = cross_validate(folds)
        protocol = f"{len(test.folds)}-fold cross-validation (threshold from the other folds)"
        acc, acc_std, threshold = result.mean, result.std, float(np.mean(result.thresholds))
    else:
        train_d = pair_distances(train.pairs, described)
        threshold = best_threshold(train_d, np.array([p.same for p in train.pairs]))
        protocol = f"threshold from {train_file.name}, accuracy on {pairs_file.name}"  # type: ignore[union-attr]
        acc, acc_std = accuracy(distances, same, threshold), 0.0
    no_face = sorted(f"{k[0]}_{k[1]:04d}" for k, d in described.items() if not d.found_face)
    eer, eer_threshold = equal_error_rate(distances, same)
    report: dict[str, Any] = {
        "protocol": protocol,
        "pairs": len(all_pairs),
        "accuracy": acc,
        "accuracy_std": acc_std,
        "threshold": threshold,
        "eer": eer,
        "eer_threshold": eer_threshold,
        "images": len(described),
        "no_face_images": len(no_face),
        "no_face_handling": NO_FACE_HANDLING,
        "no_face_list": no_face,
        "images_per_s": len(described) / seconds if seconds > 0 else None,
        "seconds": seconds,
        "upsample": settings.upsample,
        "flip_average": settings.flip,
    }
    for far in (1e-2, 1e-3):
        tar, at = tar_at_far(distances, same, far)
        report[f"tar_at_far_{far:.0e}"] = tar
        report[f"threshold_at_far_{far:.0e}"] = at
    return report


def calibrate(
    images: Path, pairs_file: Path, settings: Settings, start: Callable[[int], Progress]
) -> Calibration:
    """The false-match rate by distance, from every pair of the listed images, not just the
    listed pairs."""
    described, _ = _describe(images, [read_pairs(pairs_file)], settings, start)
    keys = sorted(described)
    vectors = np.array([described[k].descriptor for k in keys], dtype=np.float64)
    names = np.array([k[0] for k in keys])
    # Every pair at once: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b (3,443 images: 5.9 M pairs).
    squares = (vectors**2).sum(axis=1)
    gram = squares[:, None] + squares[None, :] - 2.0 * (vectors @ vectors.T)
    first, second = np.triu_indices(len(keys), 1)
    distances = np.sqrt(np.maximum(gram[first, second], 0.0))
    same = names[first] == names[second]
    if same.all() or not same.any():
        raise InvalidInput("calibration needs images of the same and of different people")
    gen_d, imp_d = distances[same], distances[~same]
    points = (
        threshold_at_fmr(imp_d, 1e-3),
        threshold_at_fmr(imp_d, 1e-4),
        equal_error_rate(distances, same)[1],
    )
    source = (
        f"{pairs_file.name}: {len(keys)} images of {len(set(names.tolist()))} people "
        f"(detector {settings.detector}, embedder {settings.embedder}, "
        f"upsample {settings.upsample}, flip {settings.flip})"
    )
    return Calibration.measure(imp_d, int(gen_d.size), points, source)
