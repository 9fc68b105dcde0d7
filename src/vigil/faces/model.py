"""The ``FaceModel`` interface and its backend: a detector (YuNet on ONNX Runtime, or dlib's
HOG or CNN), dlib's 5-point landmarks and chips, and the descriptors (``descriptors.py``):
dlib's ResNet (run by ONNX Runtime unless ``runtime="dlib"``), Intel's face-reid-0095 on
chips aligned by YuNet's five points, or both."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from vigil.errors import ConfigError
from vigil.faces.descriptors import DIMENSIONS, models_of, tag_of
from vigil.faces.reid_onnx import ReidEmbedder, align
from vigil.faces.resnet_onnx import OnnxEmbedder
from vigil.faces.yunet import Found, YuNetDetector

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DESCRIPTOR_SIZE = DIMENSIONS["dlib"]
MAX_DESCRIPTORS = 8  # kept per sighting (different faces of one track), at most
MODELS_PACKAGE = "face_recognition_models"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
MMOD_FILE = "mmod_human_face_detector.dat"
RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
DETECTORS = ("yunet", "hog", "mmod")
# YuNet's box (hairline to chin) made into the box dlib's detectors draw and its landmark
# model was trained on (brows to lip), as fitted on 596 lfw-dev faces both found: the centre
# moves down 3.7% of the height, the width grows 11%, the height shrinks 15% (the fitted
# sideways shift, 4% of the width, is left out: a mirrored face must get a mirrored box).
# Landmarks from this box differ from those from HOG's box by 1.7% of the eye distance
# (median; 3.4% at the 95th percentile), from YuNet's own box by 1.9% (6.9%).
YUNET_TO_DLIB = (0.0, 0.037, 1.11, 0.85)  # centre x, y shift (of w, h); width, height scale


@dataclass(frozen=True, slots=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    def __post_init__(self) -> None:
        if self.right <= self.left or self.bottom <= self.top:
            raise ValueError(f"empty box {self}")

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def iou(self, other: Box) -> float:
        w = min(self.right, other.right) - max(self.left, other.left)
        h = min(self.bottom, other.bottom) - max(self.top, other.top)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        return inter / (self.width * self.height + other.width * other.height - inter)

    def to_dict(self) -> dict[str, int]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


@dataclass(frozen=True, slots=True)
class Detection:
    """A detected face: its box, the detector's score, dlib's five landmarks (x, y: eye
    corners and the base of the nose) and, where YuNet found it, YuNet's five ``points``
    (eyes, nose tip, mouth corners), which the re-identification model is aligned by."""

    box: Box
    score: float
    landmarks: NDArray[np.float64]
    points: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if self.landmarks.shape != (5, 2):
            raise ValueError("five (x, y) landmarks expected")
        if self.points is not None and self.points.shape != (5, 2):
            raise ValueError("five (x, y) points expected")


@dataclass(frozen=True, slots=True)
class Chip:
    """A face cut out for the descriptors: dlib's aligned chip (CHIP_SIZE square, RGB; its
    quality is measured on it) and, when the re-identification model is used, its own."""

    face: NDArray[np.uint8]
    reid: NDArray[np.uint8] | None = None

    def mirrored(self) -> Chip:
        flip = np.ascontiguousarray
        return Chip(
            flip(self.face[:, ::-1]), None if self.reid is None else flip(self.reid[:, ::-1])
        )


def eye_points(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """The eye centres from dlib's landmarks (each the mean of its two corners), the eye on
    the image's left first: what the re-identification chip is aligned by without YuNet."""
    eyes = np.array([landmarks[0:2].mean(axis=0), landmarks[2:4].mean(axis=0)])
    return eyes[np.argsort(eyes[:, 0])]


class FaceModel(Protocol):
    """What analytics needs from a face model; chips go in batches so a GPU backend fits."""

    def detect(
        self, rgb: NDArray[np.uint8], upsample: int, *, scale: float | None = None
    ) -> list[Detection]:
        """Faces in the frame; ``scale`` (YuNet's) overrides the configured search scale."""
        ...

    def search_scale(self, smallest_px: float | None) -> float:
        """The scale a frame is searched at for faces of at least ``smallest_px`` (None:
        the configured size); 1.0 for detectors that do not scale (HOG, MMOD)."""
        ...

    def locate(self, rgb: NDArray[np.uint8], box: Box) -> Detection:
        """Landmarks for a face known to be in ``box`` (a tracker's or a fallback's box)."""
        ...

    def chips(self, rgb: NDArray[np.uint8], faces: Sequence[Detection]) -> list[Chip]:
        """Aligned face chips, one per face."""
        ...

    def embed(
        self, chips: Sequence[Chip], models: tuple[str, ...] | None = None
    ) -> NDArray[np.float32]:
        """One descriptor per chip: the vectors of ``models`` (default: every model of
        ``tag``), side by side in that order."""
        ...

    @property
    def tag(self) -> str:
        """The models whose descriptors ``embed`` gives (``descriptors.tag_of``)."""
        ...


def models_dir() -> Path:
    """Where ``face_recognition_models`` keeps its files, found without importing it.

    (Its ``__init__`` imports the deprecated ``pkg_resources``; only the files are needed.)
    """
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the Python package {MODELS_PACKAGE} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def dlib_box(found: Found) -> tuple[int, int, int, int]:
    """The box dlib's detectors would draw around a face YuNet found (YUNET_TO_DLIB)."""
    left, top, right, bottom = found.box
    shift_x, shift_y, scale_w, scale_h = YUNET_TO_DLIB
    w, h = right - left, bottom - top
    cx, cy = (left + right) / 2 + shift_x * w, (top + bottom) / 2 + shift_y * h
    w, h = w * scale_w, h * scale_h
    return round(cx - w / 2), round(cy - h / 2), round(cx + w / 2), round(cy + h / 2)


class DlibFaceModel:
    """The face models, loaded on first use (once per process, never at import).

    ``detector`` is "yunet" (a small CNN on ONNX Runtime: finds faces from about 20 px,
    turned ones too, at a fraction of HOG's cost), "hog" (dlib's HOG) or "mmod" (dlib's CNN:
    about a second per 512x512 image on a CPU). ``smallest_face_px`` sets the scale YuNet
    searches at (the smaller, the dearer); HOG's is ``upsample``. ``threads``: ONNX
    Runtime's threads, this process's share of the cores. ``embedder``: "dlib", "reid" or
    "fused" (both); ``runtime``: what runs dlib's ResNet, "onnx" or "dlib" itself.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        detector: str = "yunet",
        embedder: str = "dlib",
        runtime: str = "onnx",
        smallest_face_px: int = 20,
        threads: int = 1,
    ) -> None:
        if detector not in DETECTORS:
            raise ConfigError(f"unknown face detector {detector!r}; use one of {DETECTORS}")
        if runtime not in ("onnx", "dlib"):
            raise ConfigError(f"unknown runtime {runtime!r} for dlib's ResNet; use onnx or dlib")
        self._dir = model_dir
        self._kind = detector
        self._models = models_of(embedder)
        self._runtime = runtime
        self._threads = threads
        self._yunet = YuNetDetector(smallest_px=smallest_face_px, threads=threads)
        self._lock = threading.Lock()

    def _file(self, name: str) -> str:
        path = (self._dir or models_dir()) / name
        if not path.is_file():
            raise ConfigError(f"face model file {path} is missing")
        return str(path)

    @cached_property
    def _dlib(self) -> Any:
        import dlib  # noqa: PLC0415 - heavy native module, loaded only when faces are used

        return dlib

    @cached_property
    def _detector(self) -> Any:
        return self._dlib.get_frontal_face_detector()

    @cached_property
    def _cnn(self) -> Any:
        return self._dlib.cnn_face_detection_model_v1(self._file(MMOD_FILE))

    def search_scale(self, smallest_px: float | None) -> float:
        if self._kind != "yunet":
            return 1.0
        if smallest_px is None or smallest_px <= self._yunet.smallest_px:
            return self._yunet.scale
        return self._yunet.scale_for(smallest_px)

    def _rects(
        self, rgb: NDArray[np.uint8], upsample: int, scale: float | None
    ) -> list[tuple[Any, float, NDArray[np.float64] | None]]:
        """dlib rectangles, scores and YuNet's five points (None from dlib's detectors)."""
        if self._kind == "yunet":
            rects: list[tuple[Any, float, NDArray[np.float64] | None]] = []
            for face in self._yunet.detect(rgb, scale):
                left, top, right, bottom = dlib_box(face)  # dlib's right and bottom are inside
                rect = self._dlib.rectangle(left, top, right - 1, bottom - 1)
                rects.append((rect, face.score, face.points))
            return rects
        if self._kind == "mmod":
            return [(d.rect, float(d.confidence), None) for d in self._cnn(rgb, upsample)]
        rects, scores, _ = self._detector.run(rgb, upsample, 0.0)
        return [(rect, score, None) for rect, score in zip(rects, scores, strict=True)]

    @cached_property
    def _predictor(self) -> Any:
        return self._dlib.shape_predictor(self._file(LANDMARKS_FILE))

    @cached_property
    def _encoder(self) -> Any:
        return self._dlib.face_recognition_model_v1(self._file(RESNET_FILE))

    @cached_property
    def _onnx(self) -> OnnxEmbedder:
        return OnnxEmbedder(Path(self._file(RESNET_FILE)), threads=self._threads)

    @cached_property
    def _reid(self) -> ReidEmbedder:
        return ReidEmbedder(threads=self._threads)

    @property
    def tag(self) -> str:
        return tag_of(self._models)

    @property
    def dimension(self) -> int:
        return sum(DIMENSIONS[m] for m in self._models)

    def _shape(self, rgb: NDArray[np.uint8], box: Box) -> Any:
        rect = self._dlib.rectangle(box.left, box.top, box.right, box.bottom)
        return self._predictor(rgb, rect)

    def detect(
        self, rgb: NDArray[np.uint8], upsample: int = 1, *, scale: float | None = None
    ) -> list[Detection]:
        with self._lock:  # dlib objects are not documented as thread-safe
            found = []
            height, width = rgb.shape[:2]
            for rect, score, five in self._rects(rgb, upsample, scale):
                left, top = max(0, rect.left()), max(0, rect.top())
                right, bottom = min(width, rect.right() + 1), min(height, rect.bottom() + 1)
                if right <= left or bottom <= top:
                    continue
                box = Box(left, top, right, bottom)
                shape = self._predictor(rgb, rect)
                points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
                found.append(Detection(box, float(score), points, five))
        return sorted(found, key=lambda d: d.box.width * d.box.height, reverse=True)

    def locate(self, rgb: NDArray[np.uint8], box: Box) -> Detection:
        with self._lock:
            shape = self._shape(rgb, box)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        return Detection(box=box, score=0.0, landmarks=points)

    def chips(self, rgb: NDArray[np.uint8], faces: Sequence[Detection]) -> list[Chip]:
        """dlib's chip of each face and, for the re-identification model, its own: aligned
        by YuNet's five points, or by the eyes where no detector gave them."""
        if not faces:
            return []
        with self._lock:
            shapes = self._dlib.full_object_detections()
            for face in faces:
                shapes.append(self._shape(rgb, face.box))
            chips = self._dlib.get_face_chips(rgb, shapes, size=CHIP_SIZE, padding=CHIP_PADDING)
        reid = [
            align(rgb, face.points if face.points is not None else eye_points(face.landmarks))
            if "reid" in self._models
            else None
            for face in faces
        ]
        return [
            Chip(np.ascontiguousarray(chip, dtype=np.uint8), other)
            for chip, other in zip(chips, reid, strict=True)
        ]

    def embed(
        self, chips: Sequence[Chip], models: tuple[str, ...] | None = None
    ) -> NDArray[np.float32]:
        models = self._models if models is None else models
        if any(m not in self._models for m in models):
            raise ConfigError(f"this face model describes with {self.tag}, not {models}")
        if not chips:
            return np.zeros((0, sum(DIMENSIONS[m] for m in models)), dtype=np.float32)
        parts = []
        for model in models:
            if model == "reid":
                with self._lock:
                    reid = self._reid
                parts.append(reid.embed([c.reid for c in chips if c.reid is not None]))
            else:
                parts.append(self._dlib_vectors([c.face for c in chips]))
        if any(len(p) != len(chips) for p in parts):
            raise ValueError("a chip without the re-identification model's alignment")
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _dlib_vectors(self, chips: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
        if self._runtime == "onnx":
            with self._lock:
                embedder = self._onnx
            return embedder.embed(chips)
        with self._lock:
            vectors = self._encoder.compute_face_descriptor(chips)
        return np.array([np.array(v) for v in vectors], dtype=np.float32)
