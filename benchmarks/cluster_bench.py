"""Cluster throughput: one ingest node, one and then two workers, and an API node.

    .venv/bin/python benchmarks/cluster_bench.py [--cameras 4] [--record-s 60] [--live-s 60]
        [--live-cameras 2] [--datasets ../shared/datasets]

Everything runs on this machine as separate processes, with the servers the fault tests
start: a private PostgreSQL, a NATS server, ``vigil sim serve`` (N cameras of 1280x720 at
10 fps, lfw-dev people walking through), ``vigil record --node a`` and ``vigil up
--no-record`` (the API node, whose metrics give the lag).

1. Backlog: RECORD_S seconds recorded with no worker; then the simulator stops, so that
   its encoders leave the cores to analysis.
2. Drain, with 1 and then 2 workers (``vigil worker --threads 1`` each): the recorded
   segments are marked unanalysed, the node is restarted (it publishes its backlog), and
   the workers start. Jobs per second = 80% of the segments / the time from the 10th to
   the 90th percentile of their analysis times (worker start-up left out). The target: two
   workers reach 1.7 times the jobs per second of one.
3. Live, with 1 and then 2 workers: the simulator again (LIVE_CAMERAS of the cameras, as
   its encoders share the cores) for LIVE_S seconds; every 5 s the
   lag (the age of the oldest segment waiting) is read from the API node's
   ``/api/v1/metrics``; printed: its median and maximum.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import nats
import numpy as np
from sqlalchemy import delete, func, select, update

# The servers and processes of the cluster tests (tests/cluster): one harness for both.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.cluster.conftest import Cluster
from tests.cluster.servers import PrivatePostgres
from tests.recorded import wait_for
from tests.streams import free_port

from vigil.auth.roles import Role
from vigil.recording.index import SegmentIndex
from vigil.recording.records import Segment
from vigil.sim.server import wait_until_serving
from vigil.store.models import SegmentRow, SightingRow

LAG = re.compile(r"^vigil_analysis_lag_seconds (\S+)$", re.MULTILINE)


def simulator(faces: Path, cameras: int, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "vigil", "sim", "serve", "--faces", str(faces),
         "--cameras", str(cameras), "--port", str(port), "--width", "1280", "--height", "720",
         "--fps", "10", "--noise", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_until_serving(port, process=process)
    return process


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(30)


def analysed_times(cluster: Cluster) -> list[float]:
    with cluster.services.db.read() as session:
        rows = session.scalars(select(SegmentRow.analysed_at).where(SegmentRow.node == "a"))
        return sorted(t.timestamp() for t in rows if t is not None)


def drain(cluster: Cluster, workers: int, segments: int) -> tuple[float, float]:
    """Jobs per second and the seconds until the last job was done."""
    cluster.stop("a")
    with cluster.services.db.write() as session:
        session.execute(update(SegmentRow).values(analysed_at=None))
    cluster.ingest("a")
    began = time.time()
    names = [f"w{k}" for k in range(1, workers + 1)]
    for name in names:
        cluster.worker(name)
    wait_for(lambda: len(analysed_times(cluster)) == segments, timeout_s=30 * segments)
    for name in names:
        cluster.stop(name)
    times = analysed_times(cluster)
    t10, t90 = np.percentile(times, [10, 90])
    return 0.8 * segments / (t90 - t10), times[-1] - began


def live(
    cluster: Cluster,
    workers: int,
    seconds: float,
    api: str,
    token: str,
) -> list[float]:
    """The lag every 5 s while the simulator runs (the node reconnected to it); what an
    earlier phase left waiting is marked done first, so it does not count."""
    with cluster.services.db.write() as session:
        left = SegmentRow.analysed_at.is_(None)
        session.execute(update(SegmentRow).where(left).values(analysed_at=datetime.now(UTC)))
    names = [f"live{workers}-{k}" for k in range(1, workers + 1)]
    for name in names:
        cluster.worker(name)
    lags = []
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(5)
            metrics = httpx.get(
                f"{api}/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).text
            found = LAG.search(metrics)
            if found:
                lags.append(float(found.group(1)))
    finally:
        for name in names:
            cluster.stop(name)
    return lags


def queue_rate(cluster: Cluster, jobs: int = 5000) -> tuple[float, float]:
    """Jobs per second through JetStream alone (publish with acknowledgement, then pull and
    acknowledge), on this machine's file-backed stream: the queue's own ceiling."""

    async def run() -> tuple[float, float]:
        client = await nats.connect(cluster.nats.url)
        try:
            js = client.jetstream()
            await js.add_stream(name="BENCH", subjects=["bench.jobs"], storage="file",
                                retention="workqueue")  # fmt: skip
            began = time.perf_counter()
            for batch in range(0, jobs, 100):
                acks = [await js.publish_async("bench.jobs", b'{"segment_id": 1}')
                        for _ in range(batch, min(jobs, batch + 100))]  # fmt: skip
                await asyncio.gather(*acks)
            published = jobs / (time.perf_counter() - began)
            sub = await js.pull_subscribe("bench.jobs", durable="bench")
            began, taken = time.perf_counter(), 0
            while taken < jobs:
                for message in await sub.fetch(100, timeout=5):
                    await message.ack()
                    taken += 1
            return published, jobs / (time.perf_counter() - began)
        finally:
            await client.close()

    return asyncio.run(run())


def index_rate(cluster: Cluster, rows: int = 2000) -> float:
    """Segment rows per second that one connection commits to PostgreSQL, one transaction
    each, as a recorder does."""
    index = SegmentIndex(cluster.services.db, "bench")
    camera = cluster.camera_id("cam1")
    origin = datetime(2020, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    for k in range(rows):
        start = origin + timedelta(seconds=4 * k)
        index.add(Segment(0, camera, start, start + timedelta(seconds=4), 1, "0" * 64,
                          f"bench/{k}.mp4"))  # fmt: skip
    rate = rows / (time.perf_counter() - began)
    with cluster.services.db.write() as session:
        session.execute(delete(SegmentRow).where(SegmentRow.node == "bench"))
    return rate


def print_capacity_numbers(cluster: Cluster, camera_seconds: float) -> None:
    """The numbers docs/scaling.md works from: bytes recorded and sightings per camera."""
    with cluster.services.db.read() as session:
        recorded = int(session.scalar(select(func.sum(SegmentRow.bytes))) or 0)
        sightings, embedding, crop, descriptors = session.execute(
            select(
                func.count(SightingRow.id),
                func.avg(func.length(SightingRow.embedding)),
                func.avg(func.length(SightingRow.crop)),
                func.avg(SightingRow.descriptors),
            )
        ).one()
    print(f"recording: {recorded / camera_seconds / 1000:.1f} kB per camera-second "
          f"({recorded * 8 / camera_seconds / 1e6:.2f} Mbit/s)")  # fmt: skip
    if sightings:
        print(f"sightings: {sightings / camera_seconds * 3600:.0f} per camera-hour; per "
              f"sighting {float(embedding):.0f} B of descriptors ({float(descriptors):.1f} "
              f"descriptors), {float(crop):.0f} B of face crop")  # fmt: skip


def measure(
    cluster: Cluster,
    args: argparse.Namespace,
    segments: int,
    recorded_s: float,
    port: int,
    api: tuple[str, str],
) -> None:
    """The queue and database alone, the drains, the capacity numbers, the live lags."""
    published, taken = queue_rate(cluster)
    print(f"JetStream alone: {published:.0f} jobs/s published (acknowledged), "
          f"{taken:.0f} jobs/s pulled and acknowledged")  # fmt: skip
    print(f"PostgreSQL: {index_rate(cluster):.0f} segment rows/s committed on one "
          "connection, a transaction each")  # fmt: skip
    rates = {}
    for workers in (1, 2):
        rate, total = drain(cluster, workers, segments)
        rates[workers] = rate
        print(f"drain, {workers} worker(s): {rate:.2f} jobs/s "
              f"({rate * recorded_s / segments:.1f} camera-seconds/s); all {segments} "
              f"done {total:.1f} s after the workers started")  # fmt: skip
    print(f"2 workers / 1 worker: {rates[2] / rates[1]:.2f}x (target >= 1.7x)")
    print_capacity_numbers(cluster, recorded_s)

    for workers in (1, 2):
        sim = simulator(args.faces, args.live_cameras, port)  # the first cameras, again
        try:
            lags = live(cluster, workers, args.live_s, *api)
        finally:
            stop(sim)
        print(f"live, {args.live_cameras} cameras, {workers} worker(s): lag p50 "
              f"{np.median(lags):.1f} s, max {max(lags):.1f} s "
              f"({len(lags)} readings from the API node's metrics)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--record-s", type=float, default=60.0)
    parser.add_argument("--live-s", type=float, default=60.0)
    # Live, the simulator's encoders share the two cores: fewer cameras than the backlog's.
    parser.add_argument("--live-cameras", type=int, default=2)
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()
    args.faces = faces = args.datasets / "lfw-dev" / "lfw-deepfunneled"
    root = Path(tempfile.mkdtemp(prefix="vigil-cluster-bench-"))
    postgres = PrivatePostgres(durable=True).initialise()
    cluster = Cluster(root, postgres, recording={"segment_s": 4.0})
    try:
        port = free_port()
        sim = simulator(faces, args.cameras, port)
        for k in range(1, args.cameras + 1):
            cluster.add_camera(f"cam{k}", f"rtsp://127.0.0.1:{port}/cam{k}", node="a")
        cluster.ingest("a")
        api = cluster.api_node()
        cluster.env.add_user("audra", Role.AUDITOR)
        token = cluster.env.own_token("audra")
        ingest = cluster.processes["a"].pid
        cpu_before = cpu_s(ingest)
        time.sleep(args.record_s)
        ingest_cpu = cpu_s(ingest) - cpu_before
        stop(sim)
        time.sleep(8)  # the last segments close
        segments = cluster.counts()["segments"]
        with cluster.services.db.read() as session:
            recorded_s = sum(
                (end - start).total_seconds()
                for start, end in session.execute(select(SegmentRow.start, SegmentRow.end))
            )
        print(f"backlog: {segments} segments (~{recorded_s:.0f} camera-seconds) "
              f"from {args.cameras} cameras in {args.record_s:.0f} s")  # fmt: skip

        print(f"ingest node: {ingest_cpu / recorded_s:.4f} CPU-seconds per camera-second "
              f"({ingest_cpu:.1f} s for {recorded_s:.0f} camera-seconds)")  # fmt: skip
        measure(cluster, args, segments, recorded_s, port, (api, token))
    finally:
        cluster.close()
        postgres.destroy()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
