"""The ``FaceModel`` interface and its backend: a detector (YuNet on ONNX Runtime, or dlib's
HOG or CNN), dlib's 5-point landmarks and chips, and dlib's ResNet descriptor (run by ONNX
Runtime unless ``embedder="dlib"``)."""

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
from vigil.faces.resnet_onnx import OnnxEmbedder
from vigil.faces.yunet import Found, YuNetDetector

CHIP_SIZE = 150
CHIP_PADDING = 0.25
DESCRIPTOR_SIZE = 128
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
    """A detected face: its box, the detector's score and five landmarks (x, y)."""

    box: Box
    score: float
    landmarks: NDArray[np.float64]

    def __post_init__(self) -> None:
        if self.landmarks.shape != (5, 2):
            raise ValueError("five (x, y) landmarks expected")


class FaceModel(Protocol):
    """What analytics needs from a face model; chips go in batches so a GPU backend fits."""

    def detect(self, rgb: NDArray[np.uint8], upsample: int) -> list[Detection]: ...

    def locate(self, rgb: NDArray[np.uint8], box: Box) -> Detection:
        """Landmarks for a face known to be in ``box`` (a tracker's or a fallback's box)."""
        ...

    def chips(self, rgb: NDArray[np.uint8], faces: Sequence[Detection]) -> list[NDArray[np.uint8]]:
        """Aligned face chips (CHIP_SIZE square, RGB), one per face."""
        ...

    def embed(self, chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        """One DESCRIPTOR_SIZE vector per chip."""
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
    Runtime's threads, this process's share of the cores.
    """

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        detector: str = "yunet",
        embedder: str = "onnx",
        smallest_face_px: int = 20,
        threads: int = 1,
    ) -> None:
        if detector not in DETECTORS:
            raise ConfigError(f"unknown face detector {detector!r}; use one of {DETECTORS}")
        if embedder not in ("onnx", "dlib"):
            raise ConfigError(f"unknown face embedder {embedder!r}; use 'onnx' or 'dlib'")
        self._dir = model_dir
        self._kind = detector
        self._embedder = embedder
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

    def _rects(self, rgb: NDArray[np.uint8], upsample: int) -> list[tuple[Any, float]]:
        if self._kind == "yunet":
            rects = []
            for face in self._yunet.detect(rgb):
                left, top, right, bottom = dlib_box(face)  # dlib's right and bottom are inside
                rects.append((self._dlib.rectangle(left, top, right - 1, bottom - 1), face.score))
            return rects
        if self._kind == "mmod":
            return [(d.rect, float(d.confidence)) for d in self._cnn(rgb, upsample)]
        rects, scores, _ = self._detector.run(rgb, upsample, 0.0)
        return list(zip(rects, scores, strict=True))

    @cached_property
    def _predictor(self) -> Any:
        return self._dlib.shape_predictor(self._file(LANDMARKS_FILE))

    @cached_property
    def _encoder(self) -> Any:
        return self._dlib.face_recognition_model_v1(self._file(RESNET_FILE))

    @cached_property
    def _onnx(self) -> OnnxEmbedder:
        return OnnxEmbedder(Path(self._file(RESNET_FILE)), threads=self._threads)

    def _shape(self, rgb: NDArray[np.uint8], box: Box) -> Any:
        rect = self._dlib.rectangle(box.left, box.top, box.right, box.bottom)
        return self._predictor(rgb, rect)

    def detect(self, rgb: NDArray[np.uint8], upsample: int = 1) -> list[Detection]:
        with self._lock:  # dlib objects are not documented as thread-safe
            found = []
            height, width = rgb.shape[:2]
            for rect, score in self._rects(rgb, upsample):
                left, top = max(0, rect.left()), max(0, rect.top())
                right, bottom = min(width, rect.right() + 1), min(height, rect.bottom() + 1)
                if right <= left or bottom <= top:
                    continue
                box = Box(left, top, right, bottom)
                shape = self._predictor(rgb, rect)
                points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
                found.append(Detection(box=box, score=float(score), landmarks=points))
        return sorted(found, key=lambda d: d.box.width * d.box.height, reverse=True)

    def locate(self, rgb: NDArray[np.uint8], box: Box) -> Detection:
        with self._lock:
            shape = self._shape(rgb, box)
            points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        return Detection(box=box, score=0.0, landmarks=points)

    def chips(self, rgb: NDArray[np.uint8], faces: Sequence[Detection]) -> list[NDArray[np.uint8]]:
        if not faces:
            return []
        with self._lock:
            shapes = self._dlib.full_object_detections()
            for face in faces:
                shapes.append(self._shape(rgb, face.box))
            chips = self._dlib.get_face_chips(rgb, shapes, size=CHIP_SIZE, padding=CHIP_PADDING)
        return [np.ascontiguousarray(chip, dtype=np.uint8) for chip in chips]

    def embed(self, chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        if not chips:
            return np.zeros((0, DESCRIPTOR_SIZE), dtype=np.float32)
        if self._embedder == "onnx":
            with self._lock:
                embedder = self._onnx
            return embedder.embed(chips)
        with self._lock:
            vectors = self._encoder.compute_face_descriptor(list(chips))
        return np.array([np.array(v) for v in vectors], dtype=np.float32)
