"""A reference face from an uploaded photo: watchlist entries and search probes.

The photo must hold one usable face (large, sharp, frontal enough: ``QualityBar``, whose
bars were set on real photos so that good ones pass); a refusal names each measure that
failed and its bar. A search may go on with a weaker probe at the investigator's express,
audited choice; watchlist references never. What is kept of a photo is the face crop, its
descriptor and the SHA-256 of the file, never the file itself.
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
    descriptor: NDArray[np.float32]  # the vectors of the models ``models`` names
    sha256: str
    weak: bool = False  # below the quality bar, taken at the caller's express choice
    models: str = "dlib"  # ``vigil.faces.descriptors``

    def descriptor_bytes(self) -> bytes:
        return self.descriptor.astype("<f4").tobytes()


def reference_face(
    engine: FaceEngine, limits: ImageLimits, name: str, data: bytes, *, allow_weak: bool = False
) -> ReferenceFace:
    """The photo's main face; refused below the quality bar unless ``allow_weak``."""
    image = load_image(data, limits, name=name)
    face = engine.main_face(image, name=name)
    failed = engine.bar.failures(face.quality)
    if failed and not allow_weak:
        raise InvalidInput(
            f"{name}: the face is too poor to be a reference ({'; '.join(failed)})",
            quality=face.quality.to_dict(),
            failed=failed,
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
        weak=bool(failed),
        models=engine.model.tag,
    )
