"""Live analysis throughput: how many 720p cameras this machine records and analyses.

    .venv/bin/python benchmarks/throughput_bench.py [--cameras 8,10] [--minutes 5]
        [--engine fused|reid|dlib|hog] [--workers 2] [--datasets ../shared/datasets]
        [--feeds DIR] [--live-sim] [--ceiling] [--no-counting] [--analysis-size 640x360]

For each camera count N: a fresh data directory, N cameras of 1280x720 at 10 fps (lfw-dev
people walking through) and what ``vigil up`` runs (recorder, analysis workers, matcher)
for MINUTES, each camera analysed at 5 fps. The cameras are files served by stream copy
(``vigil sim serve --from-files``: they cost next to nothing, so the run measures Vigil),
drawn and encoded once beforehand by ``vigil sim render`` into --feeds (kept, reused);
``--live-sim`` draws and encodes them live instead, on the same cores, as before.
``--analysis-size`` gives each camera an analysis stream of that size (the same scenes,
rendered smaller): the 720p stream is recorded, the small one analysed. ``--ceiling``
first measures what each stage alone could sustain on this machine (``ceiling.py``, on
the analysed feeds): cam1's in one process, and every camera's of the largest run shared
among one process per core at once (the ceiling: the workers share the machine, and the
cameras' scenes differ), and prints each run's camera count as a share of the latter.

Every 10 s the analysis backlog and its lag (the age of the oldest segment waiting) are
read as ``vigil status`` reads them. Printed per N: lag over time, lag p50/p95, the seconds
spent in each stage of analysis (in the workers; store, in the recorder), the CPU of each
process (feeds, recorder, workers), how many segments back-pressure analysed at a lowered
rate, and whether the lag stayed bounded: p95 <= 15 s, and its mean over the last minute
less than a segment (4 s) above its mean over the minute before. ``--engine`` names the
embedder (YuNet detecting; default fused, Vigil's default), or ``hog``: the engine before
ONNX (HOG and dlib's own ResNet), for the ratio. ``--no-counting`` leaves people counting
out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from alert_latency_bench import PASSWORD
from ceiling import measure, measure_busy
from vigil.analytics.jobs import Outcome, SegmentJob
from vigil.analytics.pipeline import backlog
from vigil.app import open_services
from vigil.auth.roles import LOCAL, RequestContext
from vigil.cameras.registry import CameraSpec
from vigil.cli.setup import recording
from vigil.config import AnalyticsConfig, Config, load_config, save_config
from vigil.datadir import initialise
from vigil.sim.server import wait_until_serving

ENGINES = {  # detector, embedder, what runs dlib's ResNet
    "fused": ("yunet", "fused", "onnx"),
    "reid": ("yunet", "reid", "onnx"),
    "dlib": ("yunet", "dlib", "onnx"),
    "hog": ("hog", "dlib", "dlib"),
}
FEEDS_DIR = "vigil-feeds-1280x720-10fps"
FEED_S = 120.0  # each feed's length before it loops
SAMPLE_S = 10.0
BOUND_P95_S = 15.0
BOUND_GROWTH_S = 4.0  # mean lag, last minute against the one before: one segment's length
CLOCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of a live process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


def feeds(folder: Path, args: argparse.Namespace, cameras: int, size: tuple[int, int]) -> Path:
    """The folder of camK.mp4 feeds of that size, rendered for the cameras it lacks (before
    anything is measured; the same scenes at every size)."""
    missing = [k for k in range(1, cameras + 1) if not (folder / f"cam{k}.mp4").is_file()]
    if missing:
        print(f"rendering {cameras} feeds of {FEED_S:.0f} s into {folder} ...", flush=True)
        subprocess.run(  # noqa: S603 - our own command line
            [sys.executable, "-m", "vigil", "sim", "render", str(folder), "--faces",
             str(args.faces), "--cameras", str(cameras), "--seconds", str(FEED_S), "--width",
             str(size[0]), "--height", str(size[1]), "--fps", "10", "--noise", "4"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    return folder


def sub_feeds(args: argparse.Namespace) -> Path:
    width, height = args.analysis_size
    return args.feeds.with_name(f"{args.feeds.name}-sub-{width}x{height}")


def serve(cameras: int, args: argparse.Namespace, root: Path, port: int) -> subprocess.Popen[bytes]:
    """The cameras' RTSP server: the feeds by stream copy, or the live simulator."""
    if args.live_sim:
        command = ["--faces", str(args.faces), "--cameras", str(cameras), "--width", "1280",
                   "--height", "720", "--fps", "10", "--noise", "4"]  # fmt: skip
    else:
        chosen = root / "feeds"
        chosen.mkdir()
        for k in range(1, cameras + 1):
            (chosen / f"cam{k}.mp4").symlink_to((args.feeds / f"cam{k}.mp4").resolve())
            if args.analysis_size is not None:
                sub = sub_feeds(args) / f"cam{k}.mp4"
                (chosen / f"cam{k}-sub.mp4").symlink_to(sub.resolve())
        command = ["--from-files", str(chosen)]
    return subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "vigil", "sim", "serve", "--port", str(port), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def configured(data: Path, args: argparse.Namespace) -> None:
    config = load_config(data)
    save_config(data, config.model_copy(update=overrides(config, args)))


def overrides(config: Config, args: argparse.Namespace) -> dict[str, Any]:
    """The config sections the bench's options change (engine, workers, counting)."""
    detector, embedder, runtime = ENGINES[args.engine]
    faces = config.faces.model_copy(
        update={"detector": detector, "embedder": embedder, "dlib_runtime": runtime}
    )
    analytics = config.analytics.model_copy(update={"workers": args.workers})
    counting = config.counting.model_copy(update={"enabled": not args.no_counting})
    return {"faces": faces, "analytics": analytics, "counting": counting}


def run(cameras: int, args: argparse.Namespace, root: Path) -> bool:
    data = root / "data"
    initialise(data, admin_password=PASSWORD, request_id="bench")
    configured(data, args)
    port = 18654
    sim = serve(cameras, args, root, port)
    stages: dict[str, float] = defaultdict(float)
    samples: list[tuple[float, float, int]] = []  # (seconds, lag, segments waiting)
    rates: list[float | None] = []  # per segment analysed: the rate back-pressure chose
    try:
        wait_until_serving(port, process=sim)
        services = open_services(data)
        local = RequestContext(LOCAL, uuid.uuid4().hex)
        for n in range(1, cameras + 1):
            url = f"rtsp://127.0.0.1:{port}/cam{n}"
            sub = None if args.analysis_size is None else f"{url}-sub"
            services.cameras.add(local, CameraSpec(f"cam{n}", url, group="city", analysis_url=sub))
        pipeline = services.analytics.pipeline
        store = pipeline.store_result

        def measured(job: SegmentJob, outcome: Outcome) -> None:
            for stage, seconds in outcome.stats.stages.items():
                stages[stage] += seconds
            rates.append(outcome.lowered_fps)
            began = time.perf_counter()
            store(job, outcome)
            stages["store"] += time.perf_counter() - began

        pipeline.store_result = measured  # type: ignore[method-assign]
        cpu_before = {"feeds": cpu_s(sim.pid), "recorder": cpu_s(os.getpid())}
        began = time.monotonic()
        with recording(services):  # closes the services at the end
            while (elapsed := time.monotonic() - began) < args.minutes * 60:
                time.sleep(SAMPLE_S)
                waiting = backlog(services.segments)
                now = time.time()
                lag = 0.0 if waiting.oldest_end is None else now - waiting.oldest_end.timestamp()
                samples.append((elapsed + SAMPLE_S, max(0.0, lag), waiting.segments))
            workers = [p for p in children(os.getpid()) if p != sim.pid]  # started on demand
            cpu = {
                "feeds": cpu_s(sim.pid) - cpu_before["feeds"],
                "recorder": cpu_s(os.getpid()) - cpu_before["recorder"],
                "workers": sum(cpu_s(p) for p in workers),
            }
    finally:
        sim.terminate()
        sim.wait(20)
    return report(cameras, args, samples, stages, cpu, rates)


def report(
    cameras: int,
    args: argparse.Namespace,
    samples: list[tuple[float, float, int]],
    stages: dict[str, float],
    cpu: dict[str, float],
    rates: list[float | None],
) -> bool:
    seconds = samples[-1][0]
    lags = np.array([lag for _, lag, _ in samples])
    p50, p95 = np.percentile(lags, [50, 95])
    last = [lag for t, lag, _ in samples if t > seconds - 60]
    before = [lag for t, lag, _ in samples if seconds - 120 < t <= seconds - 60] or last
    growth = float(np.mean(last) - np.mean(before))
    bounded = p95 <= BOUND_P95_S and growth < BOUND_GROWTH_S
    print(f"\n## {cameras} cameras, engine {args.engine}, {args.workers} workers, {seconds:.0f} s")
    print("lag over time (s): " + " ".join(f"{lag:.0f}" for lag in lags))
    print("segments waiting:  " + " ".join(str(n) for _, _, n in samples))
    print(
        f"lag p50 {p50:.1f} s, p95 {p95:.1f} s, last minute's mean against the one before "
        f"{growth:+.1f} s: "
        f"{'bounded' if bounded else 'NOT bounded'}"
    )
    frames = cameras * 5 * seconds
    print(
        "stage seconds in the workers and the recorder (ms per sampled frame): "
        + ", ".join(f"{k} {v:.0f} ({1000 * v / frames:.1f})" for k, v in stages.items())
    )
    share = ", ".join(f"{k} {v:.0f} s ({100 * v / seconds:.0f}% of a core)" for k, v in cpu.items())
    print(f"process CPU: {share}")
    lowered = [rate for rate in rates if rate is not None]
    if lowered:
        own = AnalyticsConfig().sample_fps  # the bench leaves it as it is
        mean = (sum(lowered) + own * (len(rates) - len(lowered))) / len(rates)
        print(
            f"back-pressure lowered {len(lowered)} of {len(rates)} segments' rate, down to "
            f"{min(lowered):.1f} fps; mean rate {mean:.1f} of {own:.0f} fps"
        )
    else:
        print(f"back-pressure lowered none of {len(rates)} segments' rate")
    if args.ceiling_of is not None:
        share_of = 100 * cameras / args.ceiling_of.cameras
        print(f"{cameras} cameras are {share_of:.0f}% of the measured ceiling "
              f"({args.ceiling_of.cameras:.1f}){'' if bounded else ', not bounded'}")  # fmt: skip
    return bool(bounded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", default="8,10", help="camera counts to try, in order")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--engine", choices=sorted(ENGINES), default="fused")
    parser.add_argument("--workers", type=int, default=2, help="analytics.workers")
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--feeds", type=Path, default=Path(tempfile.gettempdir()) / FEEDS_DIR)
    parser.add_argument("--live-sim", action="store_true", help="draw and encode live")
    parser.add_argument("--ceiling", action="store_true", help="measure the stages alone first")
    parser.add_argument("--no-counting", action="store_true", help="no people counting")
    parser.add_argument(
        "--analysis-size", type=size, default=None, metavar="WxH",
        help="give each camera an analysis stream of this size (e.g. 640x360)",
    )  # fmt: skip
    args = parser.parse_args()
    args.faces = (args.datasets / "lfw-dev" / "lfw-deepfunneled").resolve()
    counts = [int(n) for n in args.cameras.split(",")]
    rendered = 1 if args.live_sim else max(counts)  # the live simulator draws the rest
    feeds(args.feeds, args, rendered, (1280, 720))
    if args.analysis_size is not None:
        feeds(sub_feeds(args), args, max(counts), args.analysis_size)
    args.ceiling_of = None
    if args.ceiling:
        with tempfile.TemporaryDirectory() as root:
            base = load_config(initialise_empty(Path(root) / "config"))
            analysed = args.feeds if args.analysis_size is None else sub_feeds(args)
            cores, config = os.cpu_count() or 1, overrides(base, args)
            # Every camera of the largest run: their scenes differ.
            every = [analysed / f"cam{k}.mp4" for k in range(1, rendered + 1)]
            alone = measure(every[:1], Path(root) / "alone", cores=cores, data_config=config)
            ceiling = measure_busy(every, Path(root) / "busy", cores=cores, data_config=config)
        label = f"engine {args.engine}, counting {'off' if args.no_counting else 'on'}" + (
            "" if args.analysis_size is None else ", the analysis stream's feed"
        )
        print(alone.report(label + ", cam1 in one process alone"), flush=True)
        print(ceiling.report(label + ", every core busy"), flush=True)
        args.ceiling_of = ceiling
    largest = 0
    for cameras in counts:
        with tempfile.TemporaryDirectory() as root:
            if run(cameras, args, Path(root)):
                largest = max(largest, cameras)
    print(f"\nlargest camera count with bounded lag ({args.engine}): {largest or 'none tried'}")


def size(text: str) -> tuple[int, int]:
    width, height = (int(n) for n in text.lower().split("x"))
    return width, height


def initialise_empty(data: Path) -> Path:
    initialise(data, admin_password=PASSWORD, request_id="bench")
    return data


if __name__ == "__main__":
    main()
