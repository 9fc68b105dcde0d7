"""Face redaction on real footage: every face the detector finds is covered, every frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.publishing.footage import HAMILTON
from vigil.faces.yunet import YuNetDetector
from vigil.publishing.redaction import Box, FaceRedactor, Frame, Margins, blur_region
from vigil.publishing.render import YuNetBoxes, output_size
from vigil.recording.playback import recorded_pictures


class FoundIn:
    """A face at one box in the listed frames only (to test carrying, not detection)."""

    def __init__(self, frames: set[int], box: Box) -> None:
        self.frames, self.box, self.seen = frames, box, 0

    def boxes(self, rgb: Frame) -> list[Box]:  # noqa: ARG002 - where, not what
        self.seen += 1
        return [self.box] if self.seen - 1 in self.frames else []


def _frames(n: int) -> list[Frame]:
    rng = np.random.default_rng(7)
    return [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(n)]


def test_a_face_found_once_is_covered_carry_frames_before_and_after() -> None:
    frames = _frames(12)
    redactor = FaceRedactor(FoundIn({6}, (60, 40, 90, 80)), carry=3)
    out = list(redactor.redact(frames))
    changed = [
        not np.array_equal(a[40:80, 60:90], b[40:80, 60:90])
        for a, b in zip(frames, out, strict=True)
    ]
    assert changed == [i in range(3, 10) for i in range(12)]
    assert all(np.array_equal(a[:, :40], b[:, :40]) for a, b in zip(frames, out, strict=True))


def test_the_cover_leaves_no_detail_of_the_face(portrait_path: Path) -> None:
    rgb = np.asarray(Image.open(portrait_path).convert("RGB"))
    detector = YuNetDetector(threads=1)
    (face,) = detector.detect(rgb)
    covered = rgb.copy()
    blur_region(covered, Margins().grow(face.box, rgb.shape[1], rgb.shape[0]))
    assert detector.detect(covered) == []
    left, top, right, bottom = (int(v) for v in face.box)
    patch = covered[top:bottom, left:right].astype(float)
    assert (
        np.abs(np.diff(patch, axis=1)).mean()
        < 0.25 * np.abs(np.diff(rgb[top:bottom, left:right].astype(float), axis=1)).mean()
    )


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1920, 1080), (1280, 720)), ((640, 360), (640, 360)), ((1000, 3000), (240, 720))],
)
def test_public_video_is_at_most_720p(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert output_size(*size) == expected


def test_every_face_of_a_real_clip_is_blurred(datasets: Path) -> None:
    """Faces found by a stronger search (2x upsampled) in the original are not found in
    the redacted frames, not even by that search."""
    judge = YuNetDetector(smallest_px=10, max_scale=2.0, cut_faces=True)
    redactor = FaceRedactor(YuNetBoxes())
    pictures = list(recorded_pictures(datasets / HAMILTON, 0.0, fps=5))
    originals = [p.rgb for p in pictures]
    found = sum(len(judge.detect(rgb)) for rgb in originals)
    assert found >= len(originals)  # the clip shows a face in nearly every frame
    redacted = list(redactor.redact(originals))
    assert len(redacted) == len(originals)
    left = [i for i, rgb in enumerate(redacted) if judge.detect(rgb)]
    assert left == [], f"faces left in frames {left}"
