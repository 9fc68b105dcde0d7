"""dlib's face ResNet run by dlib and by ONNX Runtime: equal descriptors, and the speed-up.

    .venv/bin/python benchmarks/embed_bench.py [--limit N] [--threads 1]

Every image of ../shared/datasets/lfw-dev (4,992 photos) is searched for faces (dlib HOG,
upsampling 1); the largest face is aligned into dlib's 150x150 chip. Each chip is then
described by dlib (``compute_face_descriptor``) and by the converted model on ONNX
Runtime, one chip at a time and in batches of 16, in this one process. It prints the
largest difference between the two descriptors of any chip, and milliseconds per face.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.faces.model import RESNET_FILE, Chip, DlibFaceModel, models_dir
from vigil.faces.resnet_onnx import BATCH, OnnxEmbedder

LFW = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "lfw-dev" / "lfw-deepfunneled"


def chips_of(paths: list[Path], model: DlibFaceModel) -> list[NDArray[np.uint8]]:
    chips = []
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        found = model.detect(rgb, 1)
        if found:
            chips += [chip.face for chip in model.chips(rgb, found[:1])]
    return chips


Embed = Callable[[Sequence[NDArray[np.uint8]]], NDArray[np.float32]]


def timed(
    embed: Embed, chips: list[NDArray[np.uint8]], batch: int
) -> tuple[NDArray[np.float32], float]:
    began = time.perf_counter()
    out = np.concatenate([embed(chips[i : i + batch]) for i in range(0, len(chips), batch)])
    return out, 1000 * (time.perf_counter() - began) / len(chips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N photos")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads")
    args = parser.parse_args()
    paths = sorted(LFW.glob("*/*.jpg"))
    if args.limit:
        paths = paths[: args.limit]
    dlib_model = DlibFaceModel(runtime="dlib")
    began = time.perf_counter()
    chips = chips_of(paths, dlib_model)
    print(f"{len(paths)} photos, {len(chips)} chips ({time.perf_counter() - began:.0f} s to find)")
    with tempfile.TemporaryDirectory() as cache:
        onnx = OnnxEmbedder(models_dir() / RESNET_FILE, threads=args.threads, cache=Path(cache))
        began = time.perf_counter()
        onnx.embed(chips[:1])
        print(f"conversion and first load: {time.perf_counter() - began:.1f} s")
        ours_1, ms_1 = timed(onnx.embed, chips, 1)
        ours_b, ms_b = timed(onnx.embed, chips, BATCH)
    theirs, ms_dlib = timed(
        lambda faces: dlib_model.embed([Chip(face) for face in faces]), chips, BATCH
    )
    diff = np.abs(ours_b - theirs).max(axis=1)
    print(
        f"largest difference from dlib: {diff.max():.2e} (median {np.median(diff):.2e}); "
        f"batch 1 vs batch {BATCH}: {np.abs(ours_1 - ours_b).max():.2e}"
    )
    print(
        f"ms per face: dlib {ms_dlib:.1f}, ONNX batch 1 {ms_1:.1f}, batch {BATCH} {ms_b:.1f} "
        f"({args.threads} thread(s)); speed-up {ms_dlib / ms_1:.1f}x and {ms_dlib / ms_b:.1f}x"
    )


if __name__ == "__main__":
    main()
