"""Face redaction for video that leaves Vigil's control room: every face blurred, every frame.

What the public and third parties see must never show a face, so the redactor errs on the
side of blurring: faces are searched at the frame's full resolution with a lower score
threshold than recognition uses, faces cut off by the frame's edge count too, each box is
enlarged (hair, ears, the chin, and movement between frames), and each detection is
carried to the frames before and after it (``carry`` frames each way), so that a frame in
which the detector blinks still has its faces covered. Looking ahead is possible because
public video is delayed anyway. A covered area is pixelated to a few blocks a face and
then smoothed, which leaves nothing a face detector or a person can recognise.

An export that shows one person (``--only-subject``) passes, with each frame, where that
person's face is (from the analysis's track): a face found there (``SAME_FACE`` overlap) is
theirs; it is left as recorded, even where the cover of a face carried from another frame
reaches it, and is not carried itself. Every other face is covered as always.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

Box = tuple[float, float, float, float]  # left, top, right, bottom
Frame = NDArray[np.uint8]  # RGB, height x width x 3

BLOCKS = 4  # a covered face becomes at most this many blocks across
# A face found where the subject's track puts their face, at least this much (intersection
# over union), is theirs. Detectors draw a face's box differently (YuNet's takes in more of
# the forehead than dlib's), so the same face overlaps by 0.5 to 0.8; two people's faces
# side by side, by little.
SAME_FACE = 0.4


class FaceBoxes(Protocol):
    """Where the faces of an RGB frame are (YuNet in Vigil)."""

    def boxes(self, rgb: Frame) -> list[Box]: ...


@dataclass(frozen=True, slots=True)
class Margins:
    """How far a face box is grown, as fractions of its width (sides) and height."""

    side: float = 0.35
    top: float = 0.55
    bottom: float = 0.35

    def grow(self, box: Box, width: int, height: int) -> tuple[int, int, int, int]:
        left, top, right, bottom = box
        w, h = right - left, bottom - top
        return (
            max(0, int(left - self.side * w)),
            max(0, int(top - self.top * h)),
            min(width, int(np.ceil(right + self.side * w))),
            min(height, int(np.ceil(bottom + self.bottom * h))),
        )


def blur_region(frame: Frame, area: tuple[int, int, int, int]) -> None:
    """Pixelate and smooth one area of the frame, in place."""
    left, top, right, bottom = area
    w, h = right - left, bottom - top
    if w <= 0 or h <= 0:
        return
    patch = Image.fromarray(frame[top:bottom, left:right])
    side = max(w, h)
    blocks = (max(1, round(BLOCKS * w / side)), max(1, round(BLOCKS * h / side)))
    coarse = patch.resize(blocks, Image.Resampling.BOX).resize((w, h), Image.Resampling.NEAREST)
    smooth = coarse.filter(ImageFilter.GaussianBlur(radius=max(1.0, side / (2 * BLOCKS))))
    frame[top:bottom, left:right] = np.asarray(smooth)


KEPT = Margins(side=0.1, top=0.1, bottom=0.1)  # what is left of a visible face as recorded


class FaceRedactor:
    """Blurs the faces of a sequence of frames, carrying each detection ``carry`` frames
    back and forth; it holds ``carry`` frames back to see that far ahead."""

    def __init__(self, faces: FaceBoxes, *, carry: int = 4, margins: Margins | None = None):
        if carry < 0:
            raise ValueError("carry must be zero or more frames")
        self.faces = faces
        self.carry = carry
        self.margins = margins or Margins()

    def redact(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """The frames, in order, each with the faces found within ``carry`` frames of it
        blurred; the caller's arrays are not changed."""
        return self.redact_except((frame, []) for frame in frames)

    def redact_except(self, frames: Iterable[tuple[Frame, list[Box]]]) -> Iterator[Frame]:
        """As ``redact``, but each frame comes with where the faces to leave visible are:
        a face found there is left as recorded, and is not carried to other frames."""
        ahead: deque[tuple[Frame, list[Box], list[Box]]] = deque()
        behind: deque[list[Box]] = deque(maxlen=self.carry)
        for frame, shown in frames:
            found = self.faces.boxes(frame)
            kept = [b for b in found if any(overlap(b, s) >= SAME_FACE for s in shown)]
            ahead.append((frame, [b for b in found if b not in kept], kept))
            if len(ahead) > self.carry:
                yield self._release(ahead, behind)
        while ahead:
            yield self._release(ahead, behind)

    def _release(
        self, ahead: deque[tuple[Frame, list[Box], list[Box]]], behind: deque[list[Box]]
    ) -> Frame:
        frame, own, kept = ahead.popleft()
        boxes = [
            *own,
            *(b for _, found, _ in ahead for b in found),
            *(b for f in behind for b in f),
        ]
        behind.append(own)
        if not boxes:
            return frame
        out = frame.copy()
        height, width = out.shape[:2]
        for box in boxes:
            blur_region(out, self.margins.grow(box, width, height))
        for box in kept:  # as recorded, whatever cover of a face near it reached it
            left, top, right, bottom = KEPT.grow(box, width, height)
            out[top:bottom, left:right] = frame[top:bottom, left:right]
        return out


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
