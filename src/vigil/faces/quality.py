"""Face quality: size, sharpness and frontalness, used to skip faces too poor to compare."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.faces.model import Detection


@dataclass(frozen=True, slots=True)
class Quality:
    face_px: int  # the shorter side of the detected box
    sharpness: float  # variance of the Laplacian of the chip's gray levels
    frontalness: float  # 1.0 facing the camera, towards 0.0 in profile

    def to_dict(self) -> dict[str, Any]:
        return {
            "face_px": self.face_px,
            "sharpness": round(self.sharpness, 2),
            "frontalness": round(self.frontalness, 3),
        }


@dataclass(frozen=True, slots=True)
class QualityBar:
    min_face_px: int = 40
    min_sharpness: float = 20.0
    min_frontalness: float = 0.35

    def passes(self, quality: Quality) -> bool:
        return (
            quality.face_px >= self.min_face_px
            and quality.sharpness >= self.min_sharpness
            and quality.frontalness >= self.min_frontalness
        )


def sharpness(chip: NDArray[np.uint8]) -> float:
    gray = chip.astype(np.float64).mean(axis=2)
    laplacian = (
        -4 * gray[1:-1, 1:-1] + gray[:-2, 1:-1] + gray[2:, 1:-1] + gray[1:-1, :-2] + gray[1:-1, 2:]
    )
    return float(laplacian.var())


def frontalness(landmarks: NDArray[np.float64]) -> float:
    """How evenly the nose sits between the eyes (dlib's 5 points: two per eye, then nose)."""
    eye_a, eye_b, nose = landmarks[0:2].mean(axis=0), landmarks[2:4].mean(axis=0), landmarks[4]
    span = float(np.linalg.norm(eye_b - eye_a))
    if span == 0.0:
        return 0.0
    axis = (eye_b - eye_a) / span
    t = float(np.dot(nose - eye_a, axis)) / span  # 0.5 when centred between the eyes
    return max(0.0, 1.0 - 2.0 * abs(t - 0.5))


def measure(face: Detection, chip: NDArray[np.uint8]) -> Quality:
    return Quality(
        face_px=min(face.box.width, face.box.height),
        sharpness=sharpness(chip),
        frontalness=frontalness(face.landmarks),
    )
