"""YuNet, a small CNN face detector (OpenCV Zoo, MIT), run with ONNX Runtime.

The model (vendored in ``models/yunet`` with its licence and provenance) takes a BGR image
of any size padded to a multiple of 32 and answers, for each of three strides (8, 16, 32)
and each cell of that grid, a class and an objectness score, a box (centre offset within
the cell and log size, in strides) and five landmarks (eyes, nose tip, mouth corners).
A face's score is the geometric mean of the two; overlapping boxes are reduced by
non-maximum suppression. It finds faces from about 20 px wide (as dlib's detectors draw a
face's box: 95% of lfw-dev faces of that size pasted into a 720p frame), so a frame is
searched at the scale where the smallest face wanted is ``MIN_PX`` wide: a camera that
needs faces of 40 px is searched at half size, a quarter of the work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import ConfigError
from vigil.faces.onnx_session import open_session

MODEL_FILE = "face_detection_yunet_2026may.onnx"
STRIDES = (8, 16, 32)
MIN_PX = 20  # the smallest face YuNet finds reliably, in the pixels it sees
EDGE_PX = 2.0  # a face whose box reaches this near the frame's edge is cut off: left out


@dataclass(frozen=True, slots=True)
class Found:
    """A face YuNet found: box (left, top, right, bottom), score, five (x, y) points."""

    box: tuple[float, float, float, float]
    score: float
    points: NDArray[np.float64]


def vendored_model() -> Path:
    return Path(str(resources.files("vigil.faces") / "models" / "yunet" / MODEL_FILE))


def _grid(rows: int, cols: int) -> NDArray[np.float32]:
    """Each cell's (column, row), row-major, as the model orders its anchors."""
    r, c = np.mgrid[0:rows, 0:cols]
    return np.stack([c.ravel(), r.ravel()], axis=1).astype(np.float32)


def nms(boxes: NDArray[np.float32], scores: NDArray[np.float32], iou: float) -> list[int]:
    """Indices of the boxes kept, best first: each drops the later ones it overlaps."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best, rest = int(order[0]), order[1:]
        keep.append(best)
        w = np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0])
        h = np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        overlap = inter / (area[best] + area[rest] - inter + 1e-9)
        order = rest[overlap <= iou]
    return keep


class YuNetDetector:
    """Faces in RGB frames. ``smallest_px``: the width of the smallest face to be found."""

    def __init__(
        self,
        model: Path | None = None,
        *,
        smallest_px: int = 20,
        score_threshold: float = 0.7,
        nms_iou: float = 0.3,
        threads: int = 1,
        cut_faces: bool = False,
        max_scale: float = 1.0,
    ) -> None:
        if smallest_px < 1:
            raise ConfigError("the smallest face to find must be at least 1 px")
        self.model = model
        self.smallest_px = smallest_px
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.threads = threads
        self.cut_faces = cut_faces  # also faces the frame's edge cuts off (for redaction)
        self.max_scale = max_scale  # above 1: faces under MIN_PX are searched upsampled
        self._lock = threading.Lock()
        self._grids: dict[tuple[int, int], NDArray[np.float32]] = {}

    @cached_property
    def _session(self) -> Any:
        return open_session(
            self.model or vendored_model(), threads=self.threads, what="face detector"
        )

    @property
    def scale(self) -> float:
        """The scale a frame is searched at: its smallest wanted face becomes MIN_PX wide."""
        return self.scale_for(self.smallest_px)

    def scale_for(self, smallest_px: float) -> float:
        """The scale that makes a face ``smallest_px`` wide MIN_PX wide (never above
        ``max_scale``)."""
        return min(self.max_scale, MIN_PX / smallest_px)

    def detect(self, rgb: NDArray[np.uint8], scale: float | None = None) -> list[Found]:
        """Faces in the frame, located in its own pixels, best score first. ``scale``: the
        one to search at instead of ``self.scale`` (1.0 for a frame scaled already)."""
        height, width = rgb.shape[:2]
        scale = self.scale if scale is None else scale
        w, h = max(1, round(width * scale)), max(1, round(height * scale))
        small = rgb if (w, h) == (width, height) else _resize(rgb, w, h)
        pad_h, pad_w = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
        blob[0, :, :h, :w] = small[:, :, ::-1].transpose(2, 0, 1)  # RGB to BGR planes
        with self._lock:  # built once; runs are thread-safe in ONNX Runtime
            session = self._session
        names = [o.name for o in session.get_outputs()]
        outputs = dict(zip(names, session.run(None, {"input": blob}), strict=True))
        boxes, scores, points = self._decode(outputs, pad_h, pad_w)
        found = []
        for i in nms(boxes, scores, self.nms_iou):
            if not self.cut_faces and _cut(boxes[i], points[i], w, h):
                continue
            left, top, right, bottom = (np.clip(boxes[i], 0, [w, h, w, h]) / scale).tolist()
            found.append(Found((left, top, right, bottom), float(scores[i]), points[i] / scale))
        return found

    def _decode(
        self, outputs: dict[str, NDArray[np.float32]], pad_h: int, pad_w: int
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float64]]:
        boxes, scores, points = [], [], []
        for stride in STRIDES:
            cls = np.clip(outputs[f"cls_{stride}"][0, :, 0], 0, 1)
            obj = np.clip(outputs[f"obj_{stride}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            keep = score >= self.score_threshold
            if not keep.any():
                continue
            key = (pad_h // stride, pad_w // stride)
            if key not in self._grids:
                self._grids[key] = _grid(*key)
            cells = self._grids[key][keep]
            bbox = outputs[f"bbox_{stride}"][0][keep]
            centre = (cells + bbox[:, :2]) * stride
            size = np.exp(bbox[:, 2:4]) * stride
            boxes.append(np.concatenate([centre - size / 2, centre + size / 2], axis=1))
            kps = outputs[f"kps_{stride}"][0][keep].reshape(-1, 5, 2)
            points.append((kps + cells[:, None, :]) * stride)
            scores.append(score[keep])
        if not boxes:
            empty = np.zeros((0, 4), dtype=np.float32)
            return empty, np.zeros(0, dtype=np.float32), np.zeros((0, 5, 2))
        return (
            np.concatenate(boxes).astype(np.float32),
            np.concatenate(scores).astype(np.float32),
            np.concatenate(points).astype(np.float64),
        )


def _cut(box: NDArray[np.float32], points: NDArray[np.float64], width: int, height: int) -> bool:
    """Whether the frame's edge (likely) cuts the face off: its box reaches the edge, or a
    landmark lies beyond it.

    YuNet finds half faces at the edge of a frame, where HOG finds few; their chips hold
    half a face and their descriptors nobody's, so they are left out (the person is found
    once in view).
    """
    left, top, right, bottom = box.tolist()
    if left < EDGE_PX or top < EDGE_PX or right > width - EDGE_PX or bottom > height - EDGE_PX:
        return True
    xs, ys = points[:, 0], points[:, 1]
    return bool((xs < 0).any() or (xs > width).any() or (ys < 0).any() or (ys > height).any())


def _resize(rgb: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))
