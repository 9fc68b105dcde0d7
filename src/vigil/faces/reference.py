"""A reference face from an uploaded photo: watchlist entries and search probes.

The photo must hold one usable face (large, sharp, frontal enough); what is kept of it is
the face crop, its descriptor and the SHA-256 of the file, never the file itself.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.errors import InvalidInput
from vigil.faces.engine import FaceEngine
from vigil.faces.images import ImageLimits, load_image


@dataclass(frozen=True, slots=True)
class ReferenceFace:
    crop_jpeg: bytes
    descriptor: NDArray[np.float32]
    sha256: str

    def descriptor_bytes(self) -> bytes:
        return self.descriptor.astype("<f4").tobytes()


def reference_face(
    engine: FaceEngine, limits: ImageLimits, name: str, data: bytes
) -> ReferenceFace:
    image = load_image(data, limits, name=name)
    face = engine.main_face(image, name=name)
    if not face.usable:
        raise InvalidInput(
            f"{name}: the face is too small, blurred or turned away to be a reference",
            quality=face.quality.to_dict(),
        )
    box = face.detection.box
    crop = io.BytesIO()
    Image.fromarray(image.rgb[box.top : box.bottom, box.left : box.right]).save(
        crop, format="JPEG", quality=90
    )
    return ReferenceFace(
        crop.getvalue(),
        face.descriptor.astype(np.float32),
        hashlib.sha256(data).hexdigest(),
    )
