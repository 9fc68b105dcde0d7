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

    @property
    def rank(self) -> float:
        """Which of a person's faces is best to keep: size x frontalness x sharpness (the
        sharpness capped at 200, beyond which it is mostly noise)."""
        return self.face_px * self.frontalness * min(self.sharpness, 200.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "face_px": self.face_px,
            "sharpness": round(self.sharpness, 2),
            "frontalness": round(self.frontalness, 3),
        }


@dataclass(frozen=True, slots=True)
class QualityBar:
    """What a reference photo must reach; set on real photos so that good ones pass.

    Measured on the 4,963 lfw-dev images in which a face is found (ordinary news photos):
    these bars accept 99.5% of them. Sharpness there: 0.1th percentile 4.3, median 35; the
    same photos Gaussian-blurred with a 3 px radius: at most 2.3. Frontalness 0 means the
    nose lies outside the eyes' span (a head turned well away).
    """

    min_face_px: int = 40
    min_sharpness: float = 4.0
    min_frontalness: float = 0.15

    def passes(self, quality: Quality) -> bool:
        return not self.failures(quality)

    def failures(self, quality: Quality) -> list[str]:
        """Each measure below its bar, as 'measure value < bar' (none: the face passes)."""
        measures = (
            ("face size (px)", quality.face_px, self.min_face_px),
            ("sharpness", quality.sharpness, self.min_sharpness),
            ("frontalness", quality.frontalness, self.min_frontalness),
        )
        return [f"{name} {value:.4g} < {bar:.4g}" for name, value, bar in measures if value < bar]


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
