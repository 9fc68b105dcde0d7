"""How many simulated 720p streams one box records by stream copy, and segment write latency.

    .venv/bin/python benchmarks/recording_bench.py [--streams 1,2,4,8] [--seconds 20]

For each stream count, the simulator (its own process) serves that many 1280x720 H.264
streams over RTSP, with sensor noise so that x264 spends camera-like bitrates, and the
recorder (this process) records them as Vigil does. CPU is read from /proc for both
processes: the recorder's CPU per stream is what recording costs; the simulator's is the
cost of making the streams (x264), which a real camera pays itself.
Segment latency is from a segment's last fragment to its index row being committed
(fsync, rename, SHA-256 and the insert).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from vigil.app import open_services
from vigil.auth.roles import LOCAL, RequestContext
from vigil.cameras.registry import CameraSpec
from vigil.datadir import initialise
from vigil.sim.server import wait_until_serving

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def measure(streams: int, seconds: float, port: int) -> dict[str, float]:
    sim = subprocess.Popen(  # noqa: S603 - our own command
        [
            sys.executable, "-m", "vigil", "sim", "serve", "--cameras", str(streams),
            "--port", str(port), "--width", "1280", "--height", "720", "--fps", "10",
            "--noise", "6",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        initialise(data, admin_password=None, request_id=uuid.uuid4().hex)
        services = open_services(data)
        try:
            wait_until_serving(port, process=sim)
            ctx = RequestContext(LOCAL, uuid.uuid4().hex)
            for k in range(1, streams + 1):
                url = f"rtsp://127.0.0.1:{port}/cam{k}"
                services.cameras.add(ctx, CameraSpec(f"cam{k}", url, group="bench"))
            recorder = services.recorder()
            recorder.start()
            time.sleep(5)  # connect and settle
            mine, theirs = cpu_seconds(os.getpid()), cpu_seconds(sim.pid)
            started = time.monotonic()
            time.sleep(seconds)
            wall = time.monotonic() - started
            mine, theirs = cpu_seconds(os.getpid()) - mine, cpu_seconds(sim.pid) - theirs
            health = [s.health() for s in recorder.supervisors.values()]
            latencies = [
                x for s in recorder.supervisors.values() for x in s.writer.commit_latencies
            ]
            recorder.stop()
        finally:
            services.close()
            sim.terminate()
            sim.wait(10)
    latencies.sort()
    return {
        "recorder_cpu_pct": 100 * mine / wall,
        "sim_cpu_pct": 100 * theirs / wall,
        "fps": statistics.mean(h.fps for h in health),
        "mbps": sum(h.bitrate_bps for h in health) / 1e6,
        "segments": len(latencies),
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--port", type=int, default=18554)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; 1280x720 H.264 at 10 fps per stream, {args.seconds:.0f} s each")
    print(
        f"{'streams':>7} {'fps/stream':>10} {'Mbit/s':>7} {'recorder CPU':>12} "
        f"{'per stream':>10} {'simulator CPU':>13} {'segments':>8} {'p50 ms':>7} {'p95 ms':>7}"
    )
    per_stream = []
    for streams in (int(n) for n in args.streams.split(",")):
        r = measure(streams, args.seconds, args.port)
        per_stream.append(r["recorder_cpu_pct"] / streams)
        print(
            f"{streams:>7} {r['fps']:>10.1f} {r['mbps']:>7.2f} {r['recorder_cpu_pct']:>11.1f}% "
            f"{per_stream[-1]:>9.2f}% {r['sim_cpu_pct']:>12.1f}% {r['segments']:>8.0f} "
            f"{r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f}"
        )
    best = min(per_stream)
    print(
        f"at {best:.2f}% of one core per stream, recording alone would take "
        f"{100 * (os.cpu_count() or 1) / best:.0f} streams to fill this box's "
        f"{os.cpu_count()} cores (ratio measured, the rest extrapolated)"
    )


if __name__ == "__main__":
    main()
