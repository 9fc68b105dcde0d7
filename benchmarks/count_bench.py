"""People counting against counts made by eye, and what counting costs on 720p video.

    .venv/bin/python benchmarks/count_bench.py [--tile-scale 1.0] [--score 0.35] [--threads 1]

Accuracy: every frame labelled in tests/crowds/people_counts.json (PETS 2009, Intel's
one-by-one, MOTChallenge MOT20-05; how they were counted is in that file) is decoded from
../shared/datasets and counted by the person detector with the given settings (default:
[counting]'s). Per clip: the mean absolute error, the mean relative error (|error| /
label, frames with at least one person) and the mean signed error (negative: undercount).
Targets (issue 18): sparse scenes (PETS, one-by-one) within 1 person per frame on average;
the dense crowd (MOT20-05) within 35%.

Cost: facenet-pytorch's 1080p clip is scaled to 1280x720 H.264 and counted as a segment
job counts it (``PeopleCounter``: every frame decoded, one counted every ``every_s``).
Reported: milliseconds per counted 720p frame, and per frame of video at the default rate
(the whole job's time over every frame it decoded). Target: <= 25 ms per 720p frame at the
default rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vigil.config import CountingConfig
from vigil.crowds.counting import PeopleCounter
from vigil.crowds.detector import CountSettings, PersonDetector

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "crowds" / "people_counts.json"
DATASETS = ROOT.parent / "shared" / "datasets"
CLIP_720 = DATASETS / "video" / "facenet-pytorch" / "video.mp4"


def _frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    found = {}
    with av.open(str(path)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n in wanted:
                found[n] = frame.to_ndarray(format="rgb24")
            if n >= max(wanted):
                break
    return found


def accuracy(detector: PersonDetector) -> None:
    labels = json.loads(LABELS.read_text())
    head = ("clip", "frames", "people", "MAE", "rel.err", "bias", "ms/frame")
    print("{:<12} {:>6} {:>7} {:>6} {:>8} {:>6} {:>9}  size".format(*head))
    for name, clip in labels["clips"].items():
        truth = {int(k): v for k, v in clip["frames"].items()}
        frames = _frames(DATASETS / clip["path"], set(truth))
        errors, relative, times = [], [], []
        for n, rgb in sorted(frames.items()):
            began = time.perf_counter()
            counted = len(detector.people(rgb))
            times.append((time.perf_counter() - began) * 1000)
            errors.append(counted - truth[n])
            if truth[n]:
                relative.append(abs(counted - truth[n]) / truth[n])
        mae = statistics.fmean(abs(e) for e in errors)
        rel = statistics.fmean(relative) if relative else 0.0
        size = "x".join(str(d) for d in next(iter(frames.values())).shape[1::-1])
        bias, ms = statistics.fmean(errors), statistics.median(times)
        print(f"{name:<12} {len(errors):>6} {sum(truth.values()):>7} {mae:>6.2f} {rel:>7.0%} "
              f"{bias:>+6.2f} {ms:>9.1f}  {size}")  # fmt: skip


def _as_720p(source: Path, out: Path) -> tuple[int, float]:
    """The clip scaled to 1280x720 H.264; its frame count and rate."""
    with av.open(str(source)) as src, av.open(str(out), "w") as dst:
        rate = Fraction(src.streams.video[0].average_rate or 25)
        stream = dst.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        frames = 0
        for frame in src.decode(video=0):
            scaled = frame.reformat(width=1280, height=720, format="yuv420p")
            scaled.pts, scaled.time_base = frames, Fraction(1, 1) / rate
            for packet in stream.encode(scaled):
                dst.mux(packet)
            frames += 1
        for packet in stream.encode(None):
            dst.mux(packet)
    return frames, float(rate)


def cost(settings: CountSettings, every_s: float, threads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "720p.mp4"
        frames, rate = _as_720p(CLIP_720, video)
        counter = PeopleCounter(PersonDetector(settings, threads=threads), every_s, threads)
        counter.count(video, 0.0)  # loads the model
        runs = []
        for _ in range(3):
            began = time.perf_counter()
            counts = counter.count(video, 0.0)
            runs.append((time.perf_counter() - began) * 1000)
        job_ms = statistics.median(runs)
        rgb = np.zeros((720, 1280, 3), np.uint8)
        with av.open(str(video)) as container:
            rgb = next(container.decode(video=0)).to_ndarray(format="rgb24")
        one = []
        for _ in range(10):
            began = time.perf_counter()
            counter.detector.people(rgb)
            one.append((time.perf_counter() - began) * 1000)
    per_counted = statistics.median(one)
    print(f"\n720p ({frames} frames at {rate:.0f} fps, one counted every {every_s:g} s, "
          f"{threads} thread(s), tiles at {settings.tile_scale:g}x):")  # fmt: skip
    print(f"  one counted frame:              {per_counted:7.1f} ms")
    print(f"  the segment job ({len(counts)} counts):    {job_ms:7.1f} ms "
          f"= {job_ms / frames:.1f} ms per frame of video (target <= 25)")  # fmt: skip


def main() -> int:
    default = CountingConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tile-scale", type=float, default=default.tile_scale)
    parser.add_argument("--score", type=float, default=default.score)
    parser.add_argument("--every", type=float, default=default.every_s)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not DATASETS.is_dir():
        print(f"{DATASETS} is missing", file=sys.stderr)
        return 2
    settings = CountSettings(tile_scale=args.tile_scale, score=args.score)
    print(f"person detector: YOLOX-Nano, score >= {args.score:g}, tiles at {args.tile_scale:g}x, "
          f"{args.threads} thread(s)\n")  # fmt: skip
    accuracy(PersonDetector(settings, threads=args.threads))
    cost(settings, args.every, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
