"""What analysis does with a decoded frame: its motion thumbnail, its RGB (scaled by FFmpeg),
how much it changed, and a face's crop as a JPEG."""

from __future__ import annotations

import io

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import InvalidInput
from vigil.faces.model import Box

MOTION_SIZE = (64, 36)
CROP_MARGIN = 0.4


def thumbnail(frame: av.VideoFrame) -> NDArray[np.float32]:
    """The frame in gray at MOTION_SIZE (area averaging, by FFmpeg): the motion gate's."""
    width, height = MOTION_SIZE
    small = frame.reformat(width=width, height=height, format="gray", interpolation="AREA")
    return np.asarray(small.to_ndarray(), dtype=np.float32)


def rgb_of(frame: av.VideoFrame, scale: float = 1.0) -> NDArray[np.uint8]:
    """The frame as packed 8-bit RGB (any size, stride, pixel format or bit depth), scaled
    by FFmpeg (area averaging) when ``scale`` is below 1."""
    try:
        if scale >= 1.0:
            return np.ascontiguousarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
        small = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
        return np.ascontiguousarray(small.to_ndarray(), dtype=np.uint8)
    except av.FFmpegError as exc:
        raise InvalidInput(f"a decoded frame could not be converted: {exc}") from None


def change(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Mean absolute difference of two thumbnails (0-255)."""
    return float(np.abs(a - b).mean())


def crop(rgb: NDArray[np.uint8], box: Box) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    margin_x, margin_y = int(box.width * CROP_MARGIN), int(box.height * CROP_MARGIN)
    return rgb[
        max(0, box.top - margin_y) : min(height, box.bottom + margin_y),
        max(0, box.left - margin_x) : min(width, box.right + margin_x),
    ].copy()


def jpeg(rgb: NDArray[np.uint8]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=85)
    return out.getvalue()
