"""Recording into a small disk kept full by retention: gaps, what was deleted, in what order.

    .venv/bin/python benchmarks/full_disk_bench.py [--cameras 4] [--disk-mib 64]
        [--steady-minutes 10] [--reserve-mib 2] [--floor-s 30] [--hold-s 60]

Mounts a tmpfs of --disk-mib (needs root) as the media disk, serves --cameras simulated
cameras over RTSP (the simulator, its own process; 640x360 with sensor noise, so x264
spends camera-like bitrates) and records them as ``vigil up`` does, with the default
retention settings but for the reserve and the floor (each camera's newest --floor-s; the
default hour would not fit). An evidence hold protects the first --hold-s of cam1 (0: no
hold; on a disk of a few MiB a held minute alone leaves no room to record). Once the
disk is first full (retention has deleted something), it runs --steady-minutes more and
reports:

- gaps: every gap of every camera recorded while the disk was full (target: none), and the
  seconds any camera spent in ``disk_full`` (sampled every 0.2 s);
- deletion order: whether every segment deleted was older than every unheld segment left
  (oldest unheld first), and that the held minute is still there;
- the disk: the lowest free space seen against the reserve, bytes written and deleted,
  retention passes and how long one took.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigil.app import Services, open_services
from vigil.audit.log import EntryFilter
from vigil.auth.roles import LOCAL, Principal, RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.datadir import initialise
from vigil.recording.recorder import Recorder
from vigil.recording.records import Segment
from vigil.recording.service import TimeRange
from vigil.sim.server import wait_until_serving

MIB = 2**20
PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway benchmark user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--disk-mib", type=int, default=64)
    parser.add_argument("--reserve-mib", type=int, default=2)
    parser.add_argument("--floor-s", type=float, default=30.0)
    parser.add_argument("--steady-minutes", type=float, default=10.0)
    parser.add_argument("--hold-s", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=18564)
    args = parser.parse_args()
    sim = subprocess.Popen(  # noqa: S603 - our own command
        [
            sys.executable, "-m", "vigil", "sim", "serve", "--cameras", str(args.cameras),
            "--port", str(args.port), "--noise", "6",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp) / "disk"
        disk.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", f"size={args.disk_mib}m", "tmpfs", str(disk)]
        subprocess.run(mount, check=True)  # noqa: S603
        try:
            services, hold = setup(args, Path(tmp) / "data", disk)
            try:
                wait_until_serving(args.port, process=sim)
                run(args, services, disk, hold)
            finally:
                services.close()
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)  # noqa: S603, S607
            sim.terminate()
            sim.wait(10)


def setup(args: argparse.Namespace, data: Path, disk: Path) -> tuple[Services, TimeRange]:
    initialise(data, admin_password=None, request_id=uuid.uuid4().hex)
    config = (data / "vigil.toml").read_text()
    config = config.replace('media_dir = ""', f'media_dir = "{disk}"')
    config = config.replace(
        "min_free_bytes = 1073741824", f"min_free_bytes = {args.reserve_mib * MIB}"
    )
    config = config.replace("floor_hours = 1.0", f"floor_hours = {args.floor_s / 3600}")
    (data / "vigil.toml").write_text(config)
    services = open_services(data)
    ctx = RequestContext(LOCAL, uuid.uuid4().hex)
    for k in range(1, args.cameras + 1):
        spec = CameraSpec(f"cam{k}", f"rtsp://127.0.0.1:{args.port}/cam{k}", group="bench")
        services.cameras.add(ctx, spec)
    user = services.users.create(ctx, "sam", "supervisor", PASSWORD)
    services.groups.grant(ctx, "bench", "sam")
    sam = Principal(name="sam", kind="user", role=Role.SUPERVISOR, user_id=user.id)
    now = datetime.now(UTC)
    hold = TimeRange(now, now + timedelta(seconds=max(args.hold_s, 0.001)))
    if args.hold_s > 0:
        ctx = RequestContext(sam, uuid.uuid4().hex)
        services.recordings.hold(ctx, "cam1", hold, "an incident")
    return services, hold


def run(args: argparse.Namespace, services: Services, disk: Path, hold: TimeRange) -> None:
    made: list[Segment] = []
    recorder = services.recorder(made.append)
    recorder.start()
    stop = threading.Event()
    watch = {"disk_full_s": 0.0, "lowest_free": float(disk_free(disk))}

    def sample() -> None:
        while not stop.wait(0.2):
            if any(s.state == "disk_full" for s in recorder.supervisors.values()):
                watch["disk_full_s"] += 0.2
            watch["lowest_free"] = min(watch["lowest_free"], disk_free(disk))

    started = time.monotonic()
    while not prunes(services):
        time.sleep(0.5)
    full_at = datetime.now(UTC)
    print(
        f"{args.cameras} cameras; the {args.disk_mib} MiB disk was first full after "
        f"{time.monotonic() - started:.0f} s; {args.steady_minutes:g} min at steady state now"
    )
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(args.steady_minutes * 60)
    rate = recorder.meter.rate_bps()
    stop.set()
    sampler.join()
    recorder.stop()
    report(services, recorder, made, full_at, hold, watch, args)
    print(f"write rate at the end: {rate / 1e6:.2f} MB/s")


def disk_free(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def prunes(services: Services) -> list[dict[str, object]]:
    with services.db.read() as session:
        found = services.audit.entries(session, EntryFilter(action="recording.prune"))
        return [dict(e.details) for e in found]


def report(
    services: Services,
    recorder: Recorder,
    made: list[Segment],
    full_at: datetime,
    hold: TimeRange,
    watch: dict[str, float],
    args: argparse.Namespace,
) -> None:
    index = services.segments
    cameras = sorted({s.camera_id for s in made})
    now = datetime.now(UTC)
    gaps = [g for c in cameras for g in index.gaps(c, full_at)]
    gap_s = sum(((g.end or now) - g.start).total_seconds() for g in gaps)
    left = {s.id for c in cameras for s in index.between(c, hold.start - timedelta(1), now)}
    held = [
        s for s in made if s.camera_id == cameras[0] and s.end > hold.start and s.start < hold.end
    ]
    deleted = [s for s in made if s.id not in left]
    unheld_left = [s for s in made if s.id in left and s not in held]
    newest_deleted = max((s.start for s in deleted), default=None)
    oldest_left = min((s.start for s in unheld_left), default=None)
    in_order = newest_deleted is None or oldest_left is None or newest_deleted <= oldest_left
    entries = prunes(services)
    whys = sorted({str(e.get("why")) for e in entries})
    written = sum(s.bytes for s in made)
    passes = list(recorder.pass_seconds)
    print(
        f"gaps while the disk was full: {len(gaps)} ({gap_s:.1f} s); seconds any camera was "
        f"disk_full: {watch['disk_full_s']:.1f}   (target: 0 and 0)"
    )
    print(
        f"segments written {len(made)} ({written / MIB:.0f} MiB), deleted {len(deleted)} "
        f"({sum(s.bytes for s in deleted) / MIB:.0f} MiB); audited prunes {len(entries)} "
        f"(why: {', '.join(whys)})"
    )
    print(
        f"oldest unheld deleted first: {in_order} (newest deleted started {newest_deleted}, "
        f"oldest unheld left started {oldest_left})"
    )
    kept = sum(1 for s in held if s.id in left)
    if args.hold_s > 0:
        print(f"held {args.hold_s:g} s of cam1: {kept} of its {len(held)} segments kept")
    print(
        f"lowest free space {watch['lowest_free'] / MIB:.1f} MiB against a reserve of "
        f"{args.reserve_mib} MiB"
    )
    if passes:
        print(
            f"retention passes {len(passes)}: median {1000 * statistics.median(passes):.1f} ms, "
            f"max {1000 * max(passes):.1f} ms"
        )


if __name__ == "__main__":
    main()
