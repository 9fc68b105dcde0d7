"""LFW pair lists (View 1 and View 2 files) and the evaluation run over them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vigil.errors import InvalidInput
from vigil.faces.compare import DEFAULT_THRESHOLD
from vigil.faces.descriptors import Space
from vigil.faces.engine import FaceEngine
from vigil.faces.images import load_image_file
from vigil.faces.model import Box, DlibFaceModel

ImageKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Pair:
    a: ImageKey
    b: ImageKey

    @property
    def same(self) -> bool:
        return self.a[0] == self.b[0]


@dataclass(frozen=True, slots=True)
class PairList:
    """Pairs in folds: ten for a View 2 file ('10 300'), one for a View 1 file ('1100')."""

    folds: list[list[Pair]]

    @property
    def pairs(self) -> list[Pair]:
        return [p for fold in self.folds for p in fold]

    def images(self) -> list[ImageKey]:
        return sorted({key for p in self.pairs for key in (p.a, p.b)})


def _pair(line: str, number: int, source: str) -> Pair:
    parts = line.split()
    try:
        if len(parts) == 3:
            return Pair((parts[0], int(parts[1])), (parts[0], int(parts[2])))
        if len(parts) == 4:
            return Pair((parts[0], int(parts[1])), (parts[2], int(parts[3])))
    except ValueError:
        pass
    raise InvalidInput(f"{source} line {number}: expected 'name n m' or 'name n other m'")


def parse_pairs(text: str, *, source: str = "pairs file") -> PairList:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InvalidInput(f"{source} is empty")
    head = lines[0].split()
    try:
        folds, per_class = (int(head[0]), int(head[1])) if len(head) == 2 else (1, int(head[0]))
    except (ValueError, IndexError):
        raise InvalidInput(f"{source} must start with '<pairs>' or '<folds> <pairs>'") from None
    expected = folds * per_class * 2
    if folds < 1 or per_class < 1 or len(lines) - 1 != expected:
        raise InvalidInput(
            f"{source} declares {folds} fold(s) of {per_class} matched and {per_class} "
            f"mismatched pairs ({expected} lines) but has {len(lines) - 1}"
        )
    pairs = [_pair(line, n, source) for n, line in enumerate(lines[1:], start=2)]
    size = 2 * per_class
    split = [pairs[i * size : (i + 1) * size] for i in range(folds)]
    for k, fold in enumerate(split):
        if [p.same for p in fold] != [True] * per_class + [False] * per_class:
            raise InvalidInput(f"{source}: fold {k + 1} does not list matched, then mismatched")
    return PairList(split)


def image_path(root: Path, key: ImageKey) -> Path:
    name, number = key
    return root / name / f"{name}_{number:04d}.jpg"


@dataclass(frozen=True, slots=True)
class Described:
    key: ImageKey
    descriptor: NDArray[np.float32]
    found_face: bool


def _centre_box(width: int, height: int) -> Box:
    """Where LFW's aligned crops put the face: the central ~45% of the image."""
    side = int(min(width, height) * 0.45)
    left, top = (width - side) // 2, (height - side) // 2
    return Box(left, top, left + side, top + side)


def describe_image(
    root: Path,
    key: ImageKey,
    upsample: int,
    flip: bool,
    detector: str = "yunet",
    embedder: str = "dlib",
    runtime: str = "onnx",
) -> Described:
    """One LFW image: the detected face nearest the centre, else the centre box; its
    descriptor holds each of the embedder's models' vectors."""
    engine = worker_engine(detector, flip, embedder, runtime)
    model = engine.model
    image = load_image_file(image_path(root, key))
    found = model.detect(image.rgb, upsample)
    cx, cy = image.width / 2, image.height / 2
    if found:
        face = min(
            found,
            key=lambda d: (
                ((d.box.left + d.box.right) / 2 - cx) ** 2
                + ((d.box.top + d.box.bottom) / 2 - cy) ** 2
            ),
        )
    else:
        face = model.locate(image.rgb, _centre_box(image.width, image.height))
    descriptor = engine.describe(model.chips(image.rgb, [face]))[0]
    return Described(key, descriptor, bool(found))


_ENGINES: dict[tuple[str, bool, str, str], FaceEngine] = {}


def worker_engine(
    detector: str, flip: bool, embedder: str = "dlib", runtime: str = "onnx"
) -> FaceEngine:
    """One engine per process and setting; its model loads on first use in each worker."""
    key = (detector, flip, embedder, runtime)
    if key not in _ENGINES:
        model = DlibFaceModel(detector=detector, embedder=embedder, runtime=runtime)
        # Only descriptors are used here; the decision threshold plays no part.
        _ENGINES[key] = FaceEngine(model, threshold=DEFAULT_THRESHOLD, flip=flip)
    return _ENGINES[key]


def describe_all(
    root: Path,
    keys: Iterable[ImageKey],
    *,
    upsample: int,
    flip: bool,
    workers: int,
    detector: str = "yunet",
    embedder: str = "dlib",
    runtime: str = "onnx",
    progress: Callable[[int], None] = lambda _: None,
) -> dict[ImageKey, Described]:
    keys = list(keys)
    missing = [image_path(root, k) for k in keys if not image_path(root, k).is_file()]
    if missing:
        raise InvalidInput(f"{len(missing)} image(s) of the pairs are missing, e.g. {missing[0]}")
    results: dict[ImageKey, Described] = {}
    if workers <= 1:
        for key in keys:
            results[key] = describe_image(root, key, upsample, flip, detector, embedder, runtime)
            progress(1)
        return results
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(describe_image, root, key, upsample, flip, detector, embedder, runtime)
            for key in keys
        ]
        for future in futures:
            described = future.result()
            results[described.key] = described
            progress(1)
    return results


def vectors_in(
    space: Space, tag: str, described: dict[ImageKey, Described], keys: list[ImageKey]
) -> NDArray[np.float64]:
    """The images' descriptors (of the models ``tag`` names) in ``space``."""
    raw = np.array([described[k].descriptor for k in keys], dtype=np.float32)
    found = space.view(raw, tag)
    if found is None:
        raise InvalidInput(f"descriptors of {tag} cannot be compared as {space.embedder}")
    return found.astype(np.float64)


def pair_distances(
    pairs: list[Pair], described: dict[ImageKey, Described], space: Space, tag: str
) -> NDArray[np.float64]:
    a = vectors_in(space, tag, described, [p.a for p in pairs])
    b = vectors_in(space, tag, described, [p.b for p in pairs])
    distances: NDArray[np.float64] = np.linalg.norm(a - b, axis=1)
    return distances
