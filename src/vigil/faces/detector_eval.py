"""Detector recall and precision against hand-marked boxes in dlib's imglab XML format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import InvalidInput
from vigil.faces.images import ImageLimits, load_image_file
from vigil.faces.model import Box, FaceModel


@dataclass(frozen=True, slots=True)
class Annotated:
    image: Path
    faces: list[Box]
    ignore: list[Box] = field(default_factory=list)


def _box(element: Any) -> Box:
    left, top = int(element.get("left")), int(element.get("top"))
    return Box(left, top, left + int(element.get("width")), top + int(element.get("height")))


def read_imglab(path: Path) -> list[Annotated]:
    """Images and their boxes; boxes marked ignore='1' neither count nor penalise."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError, DefusedXmlException) as exc:
        raise InvalidInput(f"cannot read annotations {path}: {exc}") from exc
    if root is None:
        raise InvalidInput(f"{path} has no XML document")
    found = []
    for image in root.iter("image"):
        boxes = image.findall("box")
        try:
            faces = [_box(b) for b in boxes if b.get("ignore", "0") != "1"]
            ignore = [_box(b) for b in boxes if b.get("ignore", "0") == "1"]
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{path}: bad box in {image.get('file')}: {exc}") from exc
        found.append(Annotated(path.parent / str(image.get("file")), faces, ignore))
    if not found:
        raise InvalidInput(f"{path} lists no images")
    return found


@dataclass(frozen=True, slots=True)
class DetectorScore:
    truth: int
    detections: int
    matched: int
    images: int

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 0.0

    @property
    def precision(self) -> float:
        return self.matched / self.detections if self.detections else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "faces": self.truth,
            "detections": self.detections,
            "matched": self.matched,
            "recall": self.recall,
            "precision": self.precision,
        }


def match(truth: list[Box], ignore: list[Box], found: list[Box], iou: float) -> tuple[int, int]:
    """(matched, counted detections): greedy one-to-one matching by IoU, best pairs first."""
    candidates = sorted(
        ((t.iou(d), ti, di) for ti, t in enumerate(truth) for di, d in enumerate(found)),
        reverse=True,
    )
    used_t: set[int] = set()
    used_d: set[int] = set()
    for overlap, ti, di in candidates:
        if overlap < iou:
            break
        if ti not in used_t and di not in used_d:
            used_t.add(ti)
            used_d.add(di)
    # detections of ignored faces are neither right nor wrong
    stray = [
        d for di, d in enumerate(found) if di not in used_d and any(d.iou(g) >= iou for g in ignore)
    ]
    return len(used_t), len(found) - len(stray)


def evaluate_detector(
    model: FaceModel, annotations: list[Annotated], upsample: int, iou: float = 0.3
) -> DetectorScore:
    truth = detections = matched = 0
    for item in annotations:
        image = load_image_file(item.image, ImageLimits())
        found = [d.box for d in model.detect(image.rgb, upsample)]
        hits, counted = match(item.faces, item.ignore, found, iou)
        truth += len(item.faces)
        detections += counted
        matched += hits
    return DetectorScore(
        truth=truth, detections=detections, matched=matched, images=len(annotations)
    )


# An lfw-deepfunneled image is 250 px square with its face at the centre, 108 px wide as
# dlib's detectors draw it (the median over lfw-dev).
LFW_SIZE = 250
LFW_FACE = 108


def small_faces(
    photos: list[Path], background: NDArray[np.uint8], face_px: int
) -> tuple[NDArray[np.uint8], list[Box]]:
    """LFW photos scaled so their faces are ``face_px`` wide, in rows over a real frame.

    Returns the frame and the faces' boxes (centred, ``face_px`` square): the truth for a
    detector that must find faces of that size.
    """
    frame = background.copy()
    height, width = frame.shape[:2]
    tile = round(LFW_SIZE * face_px / LFW_FACE)
    step = tile + face_px  # room between tiles, so no face touches another
    columns = (width - face_px) // step
    truth = []
    for i, photo in enumerate(photos):
        row, column = divmod(i, columns)
        x, y = face_px + column * step, face_px + row * step
        if y + tile > height - face_px:
            raise InvalidInput(f"{len(photos)} faces of {face_px} px do not fit the frame")
        image = load_image_file(photo, ImageLimits()).rgb
        small = Image.fromarray(image).resize((tile, tile), Image.Resampling.LANCZOS)
        frame[y : y + tile, x : x + tile] = np.asarray(small)
        cx, cy, half = x + tile // 2, y + tile // 2, face_px // 2
        truth.append(Box(cx - half, cy - half, cx - half + face_px, cy - half + face_px))
    return frame, truth


def evaluate_small_faces(
    model: FaceModel, photos: list[Path], background: NDArray[np.uint8], face_px: int
) -> DetectorScore:
    """Recall and precision on LFW faces ``face_px`` wide pasted into a real frame."""
    frame, truth = small_faces(photos, background, face_px)
    found = [d.box for d in model.detect(frame, 1)]
    matched, counted = match(truth, [], found, 0.3)
    return DetectorScore(truth=len(truth), detections=counted, matched=matched, images=1)
