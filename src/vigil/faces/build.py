"""The face engine built from its config: one place for the API, the CLI and the workers."""

from __future__ import annotations

import os
from pathlib import Path

from vigil.config import FacesConfig
from vigil.faces.calibration import Calibration, load_calibration
from vigil.faces.engine import FaceEngine
from vigil.faces.model import DlibFaceModel
from vigil.faces.quality import QualityBar


def cores_each(processes: int) -> int:
    """Each of ``processes`` analysing processes' share of this machine's cores (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def build_face_engine(
    config: FacesConfig,
    *,
    threads: int = 1,
    data_dir: Path | None = None,
    calibration: Calibration | None = None,
) -> FaceEngine:
    """The face pipeline; its models load on first use, not here.

    ``threads``: what ONNX Runtime may use in this process (its share of the cores). The
    embedder's calibration (the data directory's, else the shipped one) gives the space
    descriptors are compared in and, unless configured, the threshold.
    """
    calibration = calibration or load_calibration(data_dir, config.embedder)
    return FaceEngine(
        DlibFaceModel(
            detector=config.detector,
            embedder=config.embedder,
            runtime=config.dlib_runtime,
            smallest_face_px=config.smallest_face_px,
            threads=threads,
        ),
        upsample=config.upsample,
        threshold=config.threshold or calibration.candidate_threshold,
        flip=config.flip_average,
        bar=QualityBar(min_face_px=config.min_face_px),
        detect_pixels=config.detect_max_pixels,
        space=calibration.space,
        similarity_scale=calibration.similarity_scale,
    )
