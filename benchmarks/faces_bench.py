"""Face engine throughput on this machine: detections/s and descriptors/s by frame size.

    .venv/bin/python benchmarks/faces_bench.py [--seconds 3] [--image PHOTO]

Frames are the photo (default: matplotlib's portrait of Grace Hopper) placed in a gray frame
of each size, so every frame holds one real face. One process, then one process per core.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from matplotlib import cbook
from numpy.typing import NDArray
from PIL import Image

from vigil.faces.model import DlibFaceModel

SIZES = {"240p": (426, 240), "480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}


def frame_of(photo: Path, size: tuple[int, int]) -> NDArray[np.uint8]:
    width, height = size
    face = Image.open(photo).convert("RGB")
    scale = (height * 0.6) / face.height
    face = face.resize((max(1, int(face.width * scale)), max(1, int(face.height * scale))))
    canvas = Image.new("RGB", size, (110, 110, 110))
    canvas.paste(face, ((width - face.width) // 2, (height - face.height) // 2))
    return np.asarray(canvas, dtype=np.uint8).copy()


def run(photo: str, label: str, upsample: int, seconds: float) -> tuple[float, float, int]:
    """(detections/s, descriptors/s, faces found per frame) for one process."""
    model = DlibFaceModel()
    frame = frame_of(Path(photo), SIZES[label])
    faces = model.detect(frame, upsample)  # also loads the models
    chips = model.chips(frame, faces)
    model.embed(chips)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.detect(frame, upsample)
        count += 1
    detect_rate = count / (time.perf_counter() - start)
    count, start = 0, time.perf_counter()
    while chips and time.perf_counter() - start < seconds:
        model.embed(chips)
        count += len(chips)
    embed_rate = count / (time.perf_counter() - start) if chips else 0.0
    return detect_rate, embed_rate, len(faces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--image", default=cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    )
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"photo: {args.image}; {cores} cores")
    parallel_head = f"detect/s x{cores}"
    columns = f"{'frame':>6} {'upsample':>8} {'faces':>5} {'detect/s':>9} {'descr/s':>8}"
    print(f"{columns} {parallel_head:>14}")
    for label in SIZES:
        for upsample in (0, 1):
            detect, embed, faces = run(args.image, label, upsample, args.seconds)
            with ProcessPoolExecutor(cores) as pool:
                futures = [
                    pool.submit(run, args.image, label, upsample, args.seconds)
                    for _ in range(cores)
                ]
                parallel = sum(f.result()[0] for f in futures)
            print(
                f"{label:>6} {upsample:>8} {faces:>5} {detect:>9.1f} {embed:>8.1f} "
                f"{parallel:>9.1f} ({parallel / detect:.2f}x)"
            )


if __name__ == "__main__":
    main()
