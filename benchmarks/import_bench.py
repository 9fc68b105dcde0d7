"""Importing footage: seconds of video analysed per second of wall time, two files at a time.

    .venv/bin/python benchmarks/import_bench.py [--datasets ../shared/datasets] [--rounds 1]
    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python benchmarks/import_bench.py

The files are those of ``../shared/datasets`` an import would bring: eight of the ASL
gesture clips (640x480, 30 fps, 2-4 s each), Intel's one-by-one walkers (768x432, 10 fps,
139 s) and facenet-pytorch's clip (1920x1080, 25 fps, 4 s). Two worker processes (one
core each, as ``analytics.workers = 2`` on this machine) analyse them as an import does
(``VideoAnalyzer.analyse`` at the default 5 fps, the default engine, no learned face size:
a file has no camera history), longest first. Printed: video seconds, wall seconds, their
ratio, sightings and faces. Run it with PYTHONPATH set to another checkout's ``src`` to
measure that code on the same machine in the same way (the ratio of the two runs is the
speed-up).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ASL = ["book", "walk", "sister", "again", "please", "school", "no", "brother"]

_analyzer: Any = None


def _start() -> None:
    global _analyzer  # noqa: PLW0603 - one analyser per worker process
    from vigil.analytics.analyzer import AnalysisSettings, VideoAnalyzer  # noqa: PLC0415
    from vigil.config import FacesConfig  # noqa: PLC0415
    from vigil.faces.build import build_face_engine  # noqa: PLC0415

    _analyzer = VideoAnalyzer(
        build_face_engine(FacesConfig(), threads=1), AnalysisSettings(decode_threads=1)
    )


def _analyse(path: Path) -> tuple[str, float, int, int]:
    if _analyzer is None:
        raise RuntimeError("the worker was not started")
    sightings, stats = _analyzer.analyse(path, 0.0)
    return path.name, stats.seconds, len(sightings), stats.faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    video = args.datasets / "video"
    files = [video / "intel-sample-videos" / "asl_gestures" / f"{w}.mkv" for w in ASL] + [
        video / "intel-sample-videos" / "one-by-one-person-detection.mp4",
        video / "facenet-pytorch" / "video.mp4",
    ]
    import vigil  # noqa: PLC0415

    print(f"vigil from {Path(vigil.__file__).parent}")
    with ProcessPoolExecutor(2, mp_context=get_context("spawn"), initializer=_start) as pool:
        list(pool.map(_analyse, files[:2]))  # models loaded in both workers
        for _ in range(args.rounds):
            began = time.perf_counter()
            done = list(pool.map(_analyse, sorted(files, key=lambda p: -p.stat().st_size)))
            wall = time.perf_counter() - began
            seconds = sum(s for _, s, _, _ in done)
            sightings = sum(n for _, _, n, _ in done)
            faces = sum(f for _, _, _, f in done)
            print(f"{len(done)} files, {seconds:.1f} s of video in {wall:.1f} s: "
                  f"{seconds / wall:.2f} video-seconds a second; {sightings} sightings, "
                  f"{faces} faces")  # fmt: skip
            for name, s, n, f in done:
                print(f"  {name}: {s:.1f} s, {n} sightings, {f} faces")


if __name__ == "__main__":
    main()
