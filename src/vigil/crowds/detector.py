"""People in a frame: YOLOX-Nano (Megvii, Apache-2.0), run with ONNX Runtime.

The model (vendored in ``models/yolox-nano`` with its licence and provenance) was exported
for a 416x416 BGR image; it is fully convolutional, so it is loaded with its input's
height and width left free and sees any picture whose sides are multiples of 32 (the
picture at the top-left, padded with 114, as its letterbox). It answers for each cell of
three grids (strides 8, 16, 32) a box (centre and log size, in strides), an objectness and
80 COCO class scores; a person's score is objectness times class 0.

The whole frame is searched shrunk to fit 416 px (as trained: large people). A frame larger
than that loses its small people when shrunk, so it is also searched at its own resolution
(scaled up for distant crowds) in one picture, or, beyond ``TILE`` px a side, in tiles of
it that overlap their neighbours by ``OVERLAP_PX``; boxes from every view are merged by
non-maximum suppression, and boxes a tile cut at its inner edges give way to whole ones.
A 720p frame is so searched in a third fewer pixels than as eight 416 px tiles overlapping
by a quarter and a square letterbox (36% less time), with no edge inside it to cut a person.
Only boxes leave this module: no crop, no pixel of a person.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import ConfigError
from vigil.faces.onnx_session import open_session
from vigil.faces.yunet import nms

MODEL_FILE = "yolox_nano.onnx"
SIZE = 416  # the side the model was trained at: the whole frame is shrunk to fit it
STRIDES = (8, 16, 32)
ALIGN = 32  # a picture's sides are padded to a multiple of the largest stride
PAD = 114.0
PERSON_SCORE = 0.35
NMS_IOU = 0.45
TILE = 1920  # the largest side searched in one picture (a 1080p frame at its resolution)
OVERLAP_PX = 104  # tiles share this much with each neighbour (a quarter of a 416 px tile)
EDGE_PX = 3.0  # a box this near a tile's inner edge was cut by the tile
# A person shorter than this in the whole-frame search is far away: the frame is searched
# at its own resolution too.
SMALL_PX = 96.0
NO_EDGES = (False, False, False, False)

Box = tuple[float, float, float, float]  # left, top, right, bottom, in frame pixels


@dataclass(frozen=True, slots=True)
class CountSettings:
    # Tiles at this multiple of the frame's resolution (1: as recorded); 0: whole frame only.
    tile_scale: float = 1.0
    score: float = PERSON_SCORE


def vendored_model() -> Path:
    return Path(str(resources.files("vigil.crowds") / "models" / "yolox-nano" / MODEL_FILE))


def any_size(path: Path) -> bytes:
    """The model with its input's height and width (and so its output's cell count) left
    free: the same weights and operations, for pictures of any size."""
    import onnx  # noqa: PLC0415 - only where people are counted
    from google.protobuf.message import DecodeError  # noqa: PLC0415

    try:
        model = onnx.load(str(path))
    except DecodeError as exc:
        raise ConfigError(f"person detection model {path} is not ONNX: {exc}") from exc
    sides = model.graph.input[0].type.tensor_type.shape.dim
    cells = model.graph.output[0].type.tensor_type.shape.dim
    if len(sides) != 4 or len(cells) != 3:
        raise ConfigError(f"person detection model {path} is not YOLOX's [1, 3, H, W]")
    sides[2].dim_param, sides[3].dim_param, cells[1].dim_param = "height", "width", "cells"
    del model.graph.value_info[:]  # shapes inferred at 416 x 416
    return bytes(model.SerializeToString())


@cache  # a camera's frames come in a few sizes
def _grids(height: int, width: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Each output row's cell (column, row) and stride, for a picture of this size."""
    cells, strides = [], []
    for stride in STRIDES:
        r, c = np.mgrid[0 : height // stride, 0 : width // stride]
        cells.append(np.stack([c.ravel(), r.ravel()], axis=1))
        strides.append(np.full((r.size, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def _padded(extent: int) -> int:
    return -(-extent // ALIGN) * ALIGN


@dataclass(frozen=True, slots=True)
class _View:
    """A part of the frame as the model sees it: its origin and scale in frame pixels."""

    left: float
    top: float
    scale: float  # model pixels per frame pixel
    inner: tuple[bool, bool, bool, bool]  # which of its edges lie inside the frame


class PersonDetector:
    def __init__(self, settings: CountSettings = CountSettings(), *, threads: int = 1) -> None:
        self.settings = settings
        self.threads = threads
        self._session: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = open_session(
                    vendored_model(),
                    threads=self.threads,
                    what="person detection",
                    rewrite=any_size,
                )
            return self._session

    def people(self, rgb: NDArray[np.uint8]) -> list[Box]:
        """The people in an RGB frame, as boxes in its pixels."""
        height, width = rgb.shape[:2]
        image = Image.fromarray(rgb)
        scale = min(SIZE / width, SIZE / height)
        whole = image.resize((max(1, round(width * scale)), max(1, round(height * scale))))
        boxes, scores = self._detect(whole, _View(0.0, 0.0, scale, NO_EDGES), width, height)
        found = [(boxes, scores)]
        if self._needs_tiles(boxes, scale, width, height):
            t = self.settings.tile_scale
            big = image.resize((round(width * t), round(height * t))) if t != 1.0 else image
            found += [self._detect(tile, view, width, height) for view, tile in _tiles(big, t)]
        all_boxes = np.concatenate([b for b, _ in found])
        if not len(all_boxes):
            return []
        keep = nms(all_boxes, np.concatenate([s for _, s in found]), NMS_IOU)
        return [(float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1 in all_boxes[keep]]

    def _needs_tiles(
        self, boxes: NDArray[np.float32], scale: float, width: int, height: int
    ) -> bool:
        """Whether the frame is searched at its own resolution too: it is much larger than
        the model's input, and the whole-frame search found nobody or someone small (far
        away, where the shrunk frame loses people)."""
        t = self.settings.tile_scale
        if t <= 0 or (width * t <= SIZE * 1.25 and height * t <= SIZE * 1.25):
            return False  # the whole frame is seen at (nearly) tile resolution already
        heights = (boxes[:, 3] - boxes[:, 1]) * scale
        return not len(boxes) or bool(heights.min() < SMALL_PX)

    def _detect(
        self, patch: Image.Image, view: _View, width: int, height: int
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        ph, pw = patch.height, patch.width
        canvas = np.full((_padded(ph), _padded(pw), 3), PAD, dtype=np.float32)
        canvas[:ph, :pw] = np.asarray(patch, dtype=np.float32)[:, :, ::-1]  # BGR
        blob = canvas.transpose(2, 0, 1)[np.newaxis]
        (out,) = self._model().run(None, {"images": np.ascontiguousarray(blob)})
        rows = out[0]
        score = rows[:, 4] * rows[:, 5]
        hit = score >= self.settings.score
        if not hit.any():
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        cells, strides = _grids(*canvas.shape[:2])
        rows, score = rows[hit], score[hit]
        centre = (rows[:, 0:2] + cells[hit]) * strides[hit]
        size = np.exp(rows[:, 2:4]) * strides[hit]
        corners = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        # Boxes a tile cut at an inner edge: the neighbouring tile (or the whole frame) has
        # them whole.
        cut = np.zeros(len(corners), dtype=bool)
        left, top, right, bottom = view.inner
        cut |= left & (corners[:, 0] <= EDGE_PX)
        cut |= top & (corners[:, 1] <= EDGE_PX)
        cut |= right & (corners[:, 2] >= pw - EDGE_PX)
        cut |= bottom & (corners[:, 3] >= ph - EDGE_PX)
        corners, score = corners[~cut], score[~cut]
        frame = corners / view.scale + np.array([view.left, view.top] * 2, dtype=np.float32)
        clipped = np.clip(frame, 0, [width, height, width, height]).astype(np.float32)
        return clipped, np.asarray(score, dtype=np.float32)


def _tiles(big: Image.Image, t: float) -> list[tuple[_View, Image.Image]]:
    """The frame (scaled by ``t``) whole, or in TILE tiles that overlap where it is larger;
    their views in frame pixels."""
    views = []
    for left in _starts(big.width):
        for top in _starts(big.height):
            right, bottom = min(left + TILE, big.width), min(top + TILE, big.height)
            inner = (left > 0, top > 0, right < big.width, bottom < big.height)
            views.append((_View(left / t, top / t, t, inner), big.crop((left, top, right, bottom))))
    return views


def _starts(extent: int) -> list[int]:
    """Where tiles begin along one side so that they cover it, overlapping by OVERLAP_PX."""
    if extent <= TILE:
        return [0]
    n = math.ceil((extent - TILE) / (TILE - OVERLAP_PX)) + 1
    step = (extent - TILE) / (n - 1)
    return [round(i * step) for i in range(n)]
