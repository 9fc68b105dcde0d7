"""Face detection: YuNet (the default) against dlib's HOG, on real 720p frames.

    .venv/bin/python benchmarks/detect_bench.py [--frames 20] [--datasets ../shared/datasets]

Printed, for each detector setting: milliseconds per 1280x720 frame (median over FRAMES
frames of facenet-pytorch's 1080p clip scaled to 720p, after a warm-up), the ratio to HOG
with upsampling 1 (what finds 40 px faces, the old default), recall and precision on
dlib's hand-marked ``testing.xml``, and recall on 40 lfw-dev faces 20 px wide pasted into
a PETS 2009 street frame scaled to 720p. One thread each (ONNX Runtime's and dlib's).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from vigil.faces.detector_eval import evaluate_detector, evaluate_small_faces, read_imglab
from vigil.faces.model import DlibFaceModel

SIZE = (1280, 720)
SETTINGS = (  # name, detector, upsample, smallest face
    ("hog, upsample 1", "hog", 1, 20),
    ("hog, upsample 0", "hog", 0, 20),
    ("yunet, faces from 20 px", "yunet", 1, 20),
    ("yunet, faces from 40 px", "yunet", 1, 40),
)


def frames(video: Path, count: int) -> list[NDArray[np.uint8]]:
    out = []
    with av.open(str(video)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n % 5 == 0:
                out.append(np.asarray(frame.to_image().resize(SIZE)))
            if len(out) == count:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()
    data = args.datasets
    clip = frames(data / "video" / "facenet-pytorch" / "video.mp4", args.frames)
    street = frames(data / "video" / "pets2009-vtest" / "vtest.avi", 1)[0]
    marked = read_imglab(data / "dlib_faces" / "testing.xml")
    photos = sorted((data / "lfw-dev" / "lfw-deepfunneled").glob("*/*.jpg"))
    photos = random.Random(3).sample(photos, 40)
    print(f"{len(clip)} frames of {SIZE[0]}x{SIZE[1]}; {len(marked)} marked images")
    columns = ["ms/frame", "faces/frame", "speed-up", "testing.xml recall", "precision"]
    print(" | ".join(["detector", *columns, "20 px recall"]))
    print("---|---|---|---|---|---|---")
    baseline = None
    for name, kind, upsample, smallest in SETTINGS:
        model = DlibFaceModel(detector=kind, smallest_face_px=smallest)
        model.detect(clip[0], upsample)  # loads the model
        times, faces = [], 0
        for rgb in clip:
            began = time.perf_counter()
            faces += len(model.detect(rgb, upsample))
            times.append(time.perf_counter() - began)
        ms = statistics.median(times) * 1000
        baseline = baseline or ms
        score = evaluate_detector(model, marked, upsample)
        small = evaluate_small_faces(model, photos, street, face_px=20)
        print(
            f"{name} | {ms:.1f} | {faces / len(clip):.1f} | {baseline / ms:.1f}x | "
            f"{score.recall:.3f} ({score.matched}/{score.truth}) | {score.precision:.3f} | "
            f"{small.recall:.3f} ({small.matched}/{small.truth})"
        )


if __name__ == "__main__":
    main()
