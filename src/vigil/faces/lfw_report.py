"""``eval-lfw`` and ``calibrate``: descriptors for the listed images, then the metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.config import FacesConfig
from vigil.errors import InvalidInput
from vigil.faces.calibration import KEPT_RECALL, Calibration
from vigil.faces.descriptors import Space, models_of, single, tag_of
from vigil.faces.evaluation import (
    accuracy,
    best_threshold,
    cross_validate,
    equal_error_rate,
    tar_at_far,
    threshold_at_fmr,
)
from vigil.faces.lfw import (
    Described,
    ImageKey,
    PairList,
    describe_all,
    pair_distances,
    parse_pairs,
    vectors_in,
)

NO_FACE_HANDLING = "centre crop: landmarks fitted to the central 45% of the image, then embedded"
Progress = Callable[[int], None]
# The fused space's weights are tried in these steps (dlib's 1 - a, reid's a).
FUSION_STEPS = np.round(np.arange(0.05, 0.951, 0.05), 2)


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
    embedder: str = "dlib"
    runtime: str = "onnx"

    @classmethod
    def of(
        cls,
        config: FacesConfig,
        workers: int,
        upsample: int | None = None,
        embedder: str | None = None,
    ) -> Settings:
        models_of(embedder or config.embedder)  # a clear error for an unknown one
        return cls(
            upsample=config.upsample if upsample is None else upsample,
            flip=config.flip_average,
            workers=workers,
            detector=config.detector,
            embedder=embedder or config.embedder,
            runtime=config.dlib_runtime,
        )

    @property
    def tag(self) -> str:
        return tag_of(models_of(self.embedder))


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
        runtime=settings.runtime,
        progress=start(len(keys)),
    )
    return described, time.perf_counter() - began


def evaluate(
    images: Path,
    pairs_file: Path,
    train_file: Path | None,
    settings: Settings,
    start: Callable[[int], Progress],
    space: Space,
) -> dict[str, Any]:
    """LFW verification: 10-fold on a View 2 file; else threshold from ``train_file``.

    Distances are measured in ``space`` (the fused one's weights come from its calibration,
    never from the pairs tested)."""
    test = read_pairs(pairs_file)
    train = None if train_file is None else read_pairs(train_file)
    if len(test.folds) == 1 and train is None:
        raise InvalidInput(
            f"{pairs_file} is a single split (View 1): pass --train for the threshold"
        )
    described, seconds = _describe(images, [test] + ([train] if train else []), settings, start)
    all_pairs = test.pairs
    distances = pair_distances(all_pairs, described, space, settings.tag)
    same = np.array([p.same for p in all_pairs])
    if train is None:
        folds = [
            (pair_distances(fold, described, space, settings.tag), np.array([p.same for p in fold]))
            for fold in test.folds
        ]
        result = cross_validate(folds)
        protocol = f"{len(test.folds)}-fold cross-validation (threshold from the other folds)"
        acc, acc_std, threshold = result.mean, result.std, float(np.mean(result.thresholds))
    else:
        train_d = pair_distances(train.pairs, described, space, settings.tag)
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
        "embedder": settings.embedder,
        "weights": list(space.weights),
    }
    for far in (1e-2, 1e-3):
        tar, at = tar_at_far(distances, same, far)
        report[f"tar_at_far_{far:.0e}"] = tar
        report[f"threshold_at_far_{far:.0e}"] = at
    return report


def _all_pairs(vectors: NDArray[np.float64]) -> NDArray[np.float64]:
    """The distance of every pair of rows, upper triangle in row order (|a - b|^2 =
    |a|^2 + |b|^2 - 2 a.b: 3,443 images make 5.9 M pairs at once)."""
    squares = (vectors**2).sum(axis=1)
    gram = squares[:, None] + squares[None, :] - 2.0 * (vectors @ vectors.T)
    first, second = np.triu_indices(len(vectors), 1)
    distances: NDArray[np.float64] = np.sqrt(np.maximum(gram[first, second], 0.0))
    return distances


def fusion_weights(
    dlib: NDArray[np.float64], reid: NDArray[np.float64], same: NDArray[np.bool_]
) -> tuple[float, float]:
    """The fused space's weights: of FUSION_STEPS, the one at which most genuine pairs are
    within the FMR 1e-4 distance (the alerts' operating point), on the calibration's pairs."""
    best, chosen = -1.0, (0.5, 0.5)
    for a in FUSION_STEPS:
        fused = np.sqrt(((1 - a) * dlib) ** 2 + (a * reid) ** 2)
        at = threshold_at_fmr(fused[~same], 1e-4)
        accepted = float(np.mean(fused[same] <= at))
        if accepted > best:
            best, chosen = accepted, (float(1 - a), float(a))
    return chosen


def calibrate(
    images: Path, pairs_file: Path, settings: Settings, start: Callable[[int], Progress]
) -> Calibration:
    """The false-match rate by distance, from every pair of the listed images, not just the
    listed pairs; for the fused embedder, its weights are chosen on the same pairs first."""
    described, _ = _describe(images, [read_pairs(pairs_file)], settings, start)
    keys = sorted(described)
    names = np.array([k[0] for k in keys])
    first, second = np.triu_indices(len(keys), 1)
    same = names[first] == names[second]
    if same.all() or not same.any():
        raise InvalidInput("calibration needs images of the same and of different people")
    tag = settings.tag
    if settings.embedder == "fused":
        dlib, reid = (
            _all_pairs(vectors_in(single(m), tag, described, keys)) for m in ("dlib", "reid")
        )
        space = Space("fused", fusion_weights(dlib, reid, same))
        del dlib, reid
    else:
        space = single(settings.embedder)
    distances = _all_pairs(vectors_in(space, tag, described, keys))
    gen_d, imp_d = distances[same], distances[~same]
    points = (
        threshold_at_fmr(imp_d, 1e-3),
        threshold_at_fmr(imp_d, 1e-4),
        equal_error_rate(distances, same)[1],
    )
    source = (
        f"{pairs_file.name}: {len(keys)} images of {len(set(names.tolist()))} people "
        f"(detector {settings.detector}, embedder {settings.embedder}, "
        f"weights {list(space.weights)}, upsample {settings.upsample}, flip {settings.flip})"
    )
    # dlib matches at its FMR 1e-4 point; another embedder where it keeps dlib's recall.
    match = None if space.embedder == "dlib" else float(np.quantile(gen_d, KEPT_RECALL))
    return Calibration.measure(imp_d, int(gen_d.size), points, source, space, match)
