"""The reference quality gate on real photos: how many ordinary news photos it accepts.

    .venv/bin/python benchmarks/reference_gate_bench.py [--datasets ../shared/datasets]

Every lfw-dev image (250x250 news photos) in which the detector finds a face is measured
(face size, sharpness, frontalness of the largest face) and judged by the default bar, as a
watchlist reference or a search probe would be. Prints the share accepted, which measures
refused the rest, and the percentiles of each measure the bar was set from.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from vigil.faces.images import load_image_file
from vigil.faces.model import DlibFaceModel
from vigil.faces.quality import Quality, QualityBar, measure

_MODEL: list[DlibFaceModel] = []


def judge(path: Path) -> Quality | None:
    """The largest face's quality, or None when no face is found."""
    if not _MODEL:
        _MODEL.append(DlibFaceModel())
    model = _MODEL[0]
    image = load_image_file(path)
    faces = model.detect(image.rgb, 1)
    if not faces:
        return None
    return measure(faces[0], model.chips(image.rgb, faces[:1])[0].face)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    photos = sorted((args.datasets / "lfw-dev" / "lfw-deepfunneled").glob("*/*.jpg"))
    with ProcessPoolExecutor(args.workers) as pool:
        qualities = [q for q in pool.map(judge, photos, chunksize=32) if q is not None]
    bar = QualityBar()
    refusals = [bar.failures(q) for q in qualities]
    refused = sum(bool(f) for f in refusals)
    why = Counter(f.split(" ")[0] for failures in refusals for f in failures)
    print(f"images: {len(photos)}, a face found in {len(qualities)}")
    print(
        f"bar: face >= {bar.min_face_px} px, sharpness >= {bar.min_sharpness}, "
        f"frontalness >= {bar.min_frontalness}"
    )
    accepted = len(qualities) - refused
    print(f"accepted {accepted}/{len(qualities)} = {accepted / len(qualities):.2%}")
    print(f"refused by: {dict(why)}")
    for name in ("face_px", "sharpness", "frontalness"):
        values = np.array([getattr(q, name) for q in qualities], dtype=np.float64)
        points = np.percentile(values, [0.1, 0.5, 1, 5, 50])
        print(
            f"{name:12} p0.1 {points[0]:.3g}  p0.5 {points[1]:.3g}  p1 {points[2]:.3g}  "
            f"p5 {points[3]:.3g}  median {points[4]:.3g}"
        )


if __name__ == "__main__":
    main()
