"""face-reid-0095 as Vigil converts and runs it, against Intel's own runtime: equal
descriptors, and milliseconds per face.

    .venv/bin/python benchmarks/reid_bench.py [--limit 400] [--threads 1]
    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python benchmarks/reid_bench.py

The first LIMIT photos of ../shared/datasets/lfw-dev are searched for faces (YuNet) and the
largest is aligned into the model's 128x128 chip. Each chip is then described by the model
converted to ONNX (into a fresh cache, so this code's converter writes it) on ONNX Runtime,
one chip at a time and in batches, and by OpenVINO (a development dependency) one at a
time, all with THREADS threads in this one process. Printed: the largest difference
between the two descriptors of any chip, and milliseconds per face. Run it with PYTHONPATH
set to another checkout's ``src`` to time that code's conversion the same way.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import openvino as ov
from numpy.typing import NDArray
from PIL import Image

import vigil
from vigil.faces.model import DlibFaceModel
from vigil.faces.reid_onnx import BATCH, ReidEmbedder, vendored_model

LFW = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "lfw-dev" / "lfw-deepfunneled"

Embed = Callable[[Sequence[NDArray[np.uint8]]], NDArray[np.float32]]


def chips_of(paths: list[Path]) -> list[NDArray[np.uint8]]:
    model = DlibFaceModel(embedder="fused")
    chips = []
    for path in paths:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        found = model.detect(rgb, 1)
        chips += [chip.reid for chip in model.chips(rgb, found[:1]) if chip.reid is not None]
    return chips


def timed(embed: Embed, chips: list[NDArray[np.uint8]], batch: int) -> tuple[NDArray, float]:
    embed(chips[:batch])  # warm
    began = time.perf_counter()
    out = np.concatenate([embed(chips[i : i + batch]) for i in range(0, len(chips), batch)])
    return out, 1000 * (time.perf_counter() - began) / len(chips)


def openvino_embed(threads: int) -> Embed:
    core = ov.Core()
    compiled = core.compile_model(
        core.read_model(str(vendored_model())),
        "CPU",
        {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads},
    )

    def embed(chips: Sequence[NDArray[np.uint8]]) -> NDArray[np.float32]:
        out = []
        for chip in chips:
            bgr = chip[:, :, ::-1].astype(np.float32).transpose(2, 0, 1)[np.newaxis]
            vector = np.asarray(compiled(bgr)[0], dtype=np.float64).reshape(-1)
            out.append(vector / np.linalg.norm(vector))
        return np.array(out, dtype=np.float32)

    return embed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400, help="the first N photos")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    print(f"vigil from {Path(vigil.__file__).parent}")
    chips = chips_of(sorted(LFW.glob("*/*.jpg"))[: args.limit])
    print(f"{len(chips)} chips of {args.limit} photos")
    with tempfile.TemporaryDirectory() as cache:
        ours = ReidEmbedder(threads=args.threads, cache=Path(cache))
        one, ms_one = timed(ours.embed, chips, 1)
        batched, ms_batch = timed(ours.embed, chips, BATCH)
    theirs, ms_openvino = timed(openvino_embed(args.threads), chips, 1)
    print(
        f"largest difference from OpenVINO: {np.abs(batched - theirs).max():.2e}; "
        f"batch 1 vs batch {BATCH}: {np.abs(one - batched).max():.2e}"
    )
    print(
        f"ms per face ({args.threads} thread(s)): ONNX Runtime batch 1 {ms_one:.2f}, batch "
        f"{BATCH} {ms_batch:.2f}; OpenVINO {ms_openvino:.2f}"
    )


if __name__ == "__main__":
    main()
