"""``eval-lfw`` and ``calibrate``: descriptors for the listed images, then the metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.config import FacesConfig
from vigil.errors import InvalidInput
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
    detector: str = "hog"

    @classmethod
    def of(cls, config: FacesConfig, workers: int, upsample: int | None = None) -> Settings:
        return cls(
            upsample=config.upsample if upsample is None else upsample,
            flip=config.flip_average,
            workers=workers,
            detector=config.detector,
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


@dataclass(frozen=True, slots=True)
class OperatingPoints:
    fmr_1e3: float
    fmr_1e4: float
    eer: float
    genuine_pairs: int
    impostor_pairs: int

    def reliable(self, fmr: float) -> bool:
        """Ten impostor pairs below the threshold is the least for a usable estimate."""
        return self.impostor_pairs * fmr >= 10


def calibrate(
    images: Path, pairs_file: Path, settings: Settings, start: Callable[[int], Progress]
) -> OperatingPoints:
    """Thresholds from every pair of the listed images, not just the listed pairs."""
    described, _ = _describe(images, [read_pairs(pairs_file)], settings, start)
    keys = sorted(described)
    vectors = np.array([described[k].descriptor for k in keys], dtype=np.float64)
    names = [k[0] for k in keys]
    genuine: list[tuple[int, int]] = []
    impostor: list[tuple[int, int]] = []
    for i, j in combinations(range(len(keys)), 2):
        (genuine if names[i] == names[j] else impostor).append((i, j))
    if not genuine or not impostor:
        raise InvalidInput("calibration needs images of the same and of different people")

    def dist(index: list[tuple[int, int]]) -> NDArray[np.float64]:
        pairs = np.array(index)
        found: NDArray[np.float64] = np.linalg.norm(
            vectors[pairs[:, 0]] - vectors[pairs[:, 1]], axis=1
        )
        return found

    gen_d, imp_d = dist(genuine), dist(impostor)
    all_d = np.concatenate([gen_d, imp_d])
    same = np.concatenate([np.ones(gen_d.size, bool), np.zeros(imp_d.size, bool)])
    return OperatingPoints(
        fmr_1e3=threshold_at_fmr(imp_d, 1e-3),
        fmr_1e4=threshold_at_fmr(imp_d, 1e-4),
        eer=equal_error_rate(all_d, same)[1],
        genuine_pairs=int(gen_d.size),
        impostor_pairs=int(imp_d.size),
    )
