"""The person detector at any picture size: the model with its sides left free, and frames
larger than one picture searched in tiles whose seams count nobody twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from vigil.crowds.detector import TILE, Box, PersonDetector, any_size, vendored_model
from vigil.faces.onnx_session import open_session
from vigil.recording.playback import recorded_pictures


@pytest.fixture(scope="module")
def street(datasets: Path) -> NDArray[np.uint8]:
    """A PETS 2009 frame (480x360) with three walkers and a sign that passes for a fourth."""
    return next(
        iter(recorded_pictures(datasets / "video" / "pets2009-vtest" / "vtest.avi", 0, 1))
    ).rgb


def _iou(a: Box, b: Box) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union


def test_the_model_with_free_sides_answers_as_exported_at_its_own_size(
    street: NDArray[np.uint8],
) -> None:
    canvas = np.full((416, 416, 3), 114.0, np.float32)
    canvas[:360] = street[:, :416, ::-1]  # the model's letterbox: BGR, at the top-left
    blob = np.ascontiguousarray(canvas.transpose(2, 0, 1)[np.newaxis])
    exported = open_session(vendored_model(), threads=1, what="person detection")
    free = open_session(vendored_model(), threads=1, what="person detection", rewrite=any_size)
    (fixed_out,) = exported.run(None, {"images": blob})
    (free_out,) = free.run(None, {"images": blob})
    assert np.array_equal(fixed_out, free_out)
    wide = np.ascontiguousarray(np.full((1, 3, 256, 416), 114.0, np.float32))
    assert free.run(None, {"images": wide})[0].shape == (1, (32 * 52 + 16 * 26 + 8 * 13), 85)


def test_a_frame_larger_than_a_picture_is_tiled_and_its_seams_count_nobody_twice(
    street: NDArray[np.uint8],
) -> None:
    detector = PersonDetector()
    native = detector.people(street)
    assert 3 <= len(native) <= 4
    factor = 5  # 2400x1800: two tiles side by side, people 400 px tall and small when shrunk
    big = np.asarray(Image.fromarray(street).resize((480 * factor, 360 * factor)))
    assert big.shape[1] > TILE
    found = detector.people(big)
    assert len(found) == len(native)
    scaled = [(x0 * factor, y0 * factor, x1 * factor, y1 * factor) for x0, y0, x1, y1 in native]
    assert all(max(_iou(box, other) for other in scaled) > 0.6 for box in found)
