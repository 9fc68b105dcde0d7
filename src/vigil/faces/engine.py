"""Face analysis of one image: detect, align, measure quality, describe, compare."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import InvalidInput
from vigil.faces.compare import Comparison, compare
from vigil.faces.descriptors import DIMENSIONS, Space, models_in, single
from vigil.faces.images import LoadedImage
from vigil.faces.model import Box, Chip, Detection, FaceModel
from vigil.faces.quality import Quality, QualityBar, measure


def _bounds(models: tuple[str, ...]) -> list[int]:
    """Where each model's part of a concatenated descriptor ends, the last one aside."""
    return list(np.cumsum([DIMENSIONS[m] for m in models])[:-1])


class NoFaceFound(InvalidInput):
    code = "no_face"


@dataclass(frozen=True, slots=True)
class AnalysedFace:
    detection: Detection
    quality: Quality
    usable: bool
    descriptor: NDArray[np.float32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": self.detection.box.to_dict(),
            "score": round(self.detection.score, 4),
            "landmarks": [[round(x, 1), round(y, 1)] for x, y in self.detection.landmarks],
            "quality": self.quality.to_dict(),
            "usable": self.usable,
        }


class FaceEngine:
    """The face pipeline for photos, with the configured detector and operating point.

    ``flip`` averages each descriptor with that of the mirrored chip, which makes it less
    sensitive to pose at twice the cost: worth it for photos, not for every video frame.
    Faces are looked for in a copy scaled down to ``detect_pixels`` and then located (and
    cut out) at full size, so the cost of a photo is bounded whatever its size.
    Descriptors are compared in ``space`` (``descriptors.py``); ``threshold`` is a distance
    there.
    """

    def __init__(
        self,
        model: FaceModel,
        *,
        upsample: int = 1,
        threshold: float,
        flip: bool = True,
        bar: QualityBar = QualityBar(),
        detect_pixels: int = 4_000_000,
        space: Space | None = None,
        similarity_scale: float = 1.0,
    ) -> None:
        self.model = model
        self.space = space or single("dlib")
        self.similarity_scale = similarity_scale
        self.upsample = upsample
        self.threshold = threshold
        self.flip = flip
        self.bar = bar
        self.detect_pixels = detect_pixels

    def describe(
        self, chips: list[Chip], known: Mapping[str, NDArray[np.float32]] | None = None
    ) -> NDArray[np.float32]:
        """The chips' descriptors by every model, averaged with their mirror images' (if
        ``flip``). ``known``: a model's vectors of these chips (not mirrored), computed
        already (video tracks chips by one model's), which are not computed again."""
        models = models_in(self.model.tag)
        known = {m: v for m, v in (known or {}).items() if m in models}
        todo = tuple(m for m in models if m not in known)
        if not chips or not known:
            descriptors = self.model.embed(chips)
        else:
            computed = self.model.embed(chips, todo) if todo else np.zeros((len(chips), 0))
            fresh = iter(np.split(computed, _bounds(todo), axis=1))
            descriptors = np.concatenate(
                [known[m] if m in known else next(fresh) for m in models], axis=1
            ).astype(np.float32)
        if self.flip and chips:
            mirrored = self.model.embed([c.mirrored() for c in chips])
            descriptors = ((descriptors + mirrored) / 2).astype(np.float32)
        return descriptors

    def view(self, descriptors: NDArray[np.float32]) -> NDArray[np.float32]:
        """This engine's own descriptors in its comparison space."""
        return self.space.of(descriptors, self.model.tag)

    def detect(self, rgb: NDArray[np.uint8]) -> list[Detection]:
        """Faces found in a copy of at most ``detect_pixels``, located at full size."""
        height, width = rgb.shape[:2]
        if height * width <= self.detect_pixels:
            return self.model.detect(rgb, self.upsample)
        scale = math.sqrt(self.detect_pixels / (height * width))
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
        return self.located(rgb, self.model.detect(small, self.upsample), scale)

    def located(
        self, rgb: NDArray[np.uint8], faces: list[Detection], scale: float
    ) -> list[Detection]:
        """Faces found in a copy of ``rgb`` scaled by ``scale``, located (boxes, landmarks)
        in ``rgb`` itself."""
        height, width = rgb.shape[:2]
        found = []
        for face in faces:
            b = face.box
            box = Box(
                max(0, int(b.left / scale)),
                max(0, int(b.top / scale)),
                min(width, math.ceil(b.right / scale)),
                min(height, math.ceil(b.bottom / scale)),
            )
            points = None if face.points is None else face.points / scale
            found.append(replace(self.model.locate(rgb, box), score=face.score, points=points))
        return found

    def analyse(self, image: LoadedImage) -> list[AnalysedFace]:
        """Every face in the image, largest first."""
        return self._described(image.rgb, self.detect(image.rgb))

    def main_face(self, image: LoadedImage, *, name: str = "image") -> AnalysedFace:
        """The largest face, for photos that show one person (probes, references); the
        faces behind it are not described (each costs as much as the main one)."""
        detections = self.detect(image.rgb)
        if not detections:
            raise NoFaceFound(f"no face found in {name}", image=name)
        return self._described(image.rgb, detections[:1])[0]

    def _described(self, rgb: NDArray[np.uint8], detections: list[Detection]) -> list[AnalysedFace]:
        chips = self.model.chips(rgb, detections)
        descriptors = self.describe(chips)
        faces = []
        for detection, chip, descriptor in zip(detections, chips, descriptors, strict=True):
            quality = measure(detection, chip.face)
            faces.append(AnalysedFace(detection, quality, self.bar.passes(quality), descriptor))
        return faces

    def compare(self, a: NDArray[np.float32], b: NDArray[np.float32]) -> Comparison:
        """Two of this engine's descriptors, compared in its space."""
        return compare(self.view(a)[0], self.view(b)[0], self.threshold, self.similarity_scale)
