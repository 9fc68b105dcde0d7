"""The cluster's control plane at city rate, simulated: segment rows, jobs and stored results,
without video.

    .venv/bin/python benchmarks/control_plane_bench.py [--rates 50,100,150,200,400,800]
        [--seconds 60] [--regions 1] [--ingest 2] [--workers 2] [--sightings 0.33]
        [--index-every 0] [--database-url postgresql://postgres@127.0.0.1:5432/test]

The servers: this machine's PostgreSQL (a fresh schema; its own fsync setting) and a NATS
server with JetStream (file store, the binary the cluster tests start) of the bench's own.
With REGIONS above 1, each region has its own schema and NATS server, its share of the
cameras, and INGEST ingest processes and WORKERS workers of its own.
For each RATE (segments a second), RATE x 4 virtual cameras close a 4 s segment each every
4 s, spread over INGEST processes. Each is an ingest node as Vigil runs one, a thread a
camera: the ``SegmentIndex`` of its node stores each segment's row without the camera
waiting (the cameras' rows share transactions: those closing together, or with
INDEX_EVERY, ``[recording] index_every_s``, all of that many seconds), and once it is
stored the analysis pipeline's hook hands its job to ``JetStreamJobs``, which publishes
it. WORKERS processes run Vigil's ``ClusterWorker`` (the JetStream consumer, its
acknowledgements and dead letters) with the analysis itself replaced by a stored result:
SIGHTINGS sightings a job on average (Poisson; 0.33 is the real street door's 300 an hour
at 4 s segments), each with a face crop of real size and the most fused descriptors a
sighting keeps (8; real ones average about 3), stored by the pipeline's ``store_result``
(watchlist matching included) as after a real analysis.

Printed for each rate, over SECONDS: segments stored and results stored a second; the lag
(the age of the oldest segment not analysed) at the end and its largest; the CPU each
part spent a job: PostgreSQL (all its processes), NATS, the ingest processes, the workers;
and PostgreSQL's transactions a job (the database's, the bench's own readings included).
Each ingest node prints how many transactions its segment rows took (group commit).
A rate is sustained when the results keep up (>= 95% of the rate) and the lag stays under
10 s. The bench stops at the first rate not sustained.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.cluster.servers import NatsServer
from tests.schemas import fresh_schema

from alert_latency_bench import PASSWORD
from vigil.analytics.analyzer import AnalysisStats, Sighting
from vigil.analytics.jobs import Outcome
from vigil.app import open_services
from vigil.auth.roles import LOCAL, RequestContext
from vigil.cameras.registry import CameraSpec
from vigil.cluster.jobs import JetStreamJobs
from vigil.cluster.link import NatsLink
from vigil.cluster.worker import ClusterWorker
from vigil.config import parse_config, render_config
from vigil.datadir import initialise
from vigil.faces.descriptors import width
from vigil.faces.model import MAX_DESCRIPTORS, Box
from vigil.faces.quality import Quality
from vigil.recording.records import Segment
from vigil.store.models import Camera, SegmentRow

SEGMENT_S = 4.0
SAMPLE_S = 2.0
START_S = 5.0
SUSTAINED_SHARE = 0.95
LAG_BOUND_S = 10.0
CROP = bytes(9_300)  # a face crop's size, as measured (docs/scaling.md)


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of a process so far, with those of its children that
    ended (PostgreSQL's connections end: their CPU moves to the server's main process)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def ingest(data: str, node: str, cameras: list[int], seconds: float) -> None:
    """One ingest node: each camera a thread that closes a 4 s segment every 4 s (from a
    phase of its own), stores its row and publishes its job, as the recorder's camera
    threads and the node do."""
    logging.basicConfig(level=logging.ERROR)  # not each connection's closing
    services = open_services(Path(data), node=node)
    jobs = JetStreamJobs(NatsLink(services.config.cluster, f"ingest-{node}"), node)
    jobs.link.start()
    index, pipeline = services.segments, services.analytics.pipeline
    pipeline.start(jobs)
    began = time.monotonic()

    def stored(done: Future[Segment]) -> None:
        pipeline.segment_closed(done.result())  # the recorder's hook, once the row is in

    def camera(camera_id: int, phase: float) -> None:
        due = began + phase
        while due < began + seconds:
            time.sleep(max(0.0, due - time.monotonic()))
            due += SEGMENT_S
            end = datetime.now(UTC)
            index.add_later(
                Segment(0, camera_id, end - timedelta(seconds=SEGMENT_S), end, 500_000,
                        "0" * 64, f"{node}/{camera_id}/{end.timestamp():.6f}.mp4")
            ).add_done_callback(stored)  # fmt: skip

    threads = [
        threading.Thread(target=camera, args=(c, random.uniform(0, SEGMENT_S)), daemon=True)
        for c in cameras
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        index.close()  # the rows still gathering are written and their jobs handed on
        deadline = time.monotonic() + 30
        while jobs.backlog() and time.monotonic() < deadline:
            time.sleep(0.05)
        shared = index.commits
        print(f"  node {node}: {shared.items:,} segment rows in {shared.commits:,} transactions")
    finally:
        jobs.close()
        jobs.link.close()
        services.close()


class ResultOnly(ClusterWorker):
    """Vigil's worker with the analysis replaced by a result of drawn size."""

    mean_sightings = 0.33

    def _work(self, segment_id: int) -> list[int] | None:
        taken = self.pipeline.waiting_job(segment_id)
        if taken is None:
            return None
        job = taken[1]
        found = np.random.default_rng(segment_id).poisson(self.mean_sightings)
        return self.pipeline.store_result(
            job, Outcome(fake_sightings(job.start, found), AnalysisStats(), [])
        )


def fake_sightings(start: float, n: int) -> list[Sighting]:
    rng = np.random.default_rng(int(start))
    models = "dlib+reid"
    return [
        Sighting(
            start + 0.5,
            start + 2.5,
            Box(100, 100, 180, 180),
            Quality(80, 120.0, 0.9),
            CROP,
            rng.normal(0, 0.1, (MAX_DESCRIPTORS, width(models))).astype(np.float32),
            12,
            models,
        )
        for _ in range(n)
    ]


def work(data: str, name: str, mean: float, seconds: float) -> None:
    logging.basicConfig(level=logging.ERROR)
    services = open_services(Path(data))
    worker = ResultOnly(
        services.config.cluster,
        services.analytics.pipeline,
        None,  # type: ignore[arg-type] - never analyses
        services.analytics.files,
        Path(tempfile.gettempdir()),
        name,
    )
    worker.mean_sightings = mean

    async def run() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        await worker.run(stop)

    try:
        asyncio.run(run())
    finally:
        services.close()


def cameras_for(services: Any, count: int) -> list[int]:
    """``count`` cameras: one added as an administrator adds it, the rest its copies (the
    registry's checks and audit for each would take the bench minutes, not the servers)."""
    local = RequestContext(LOCAL, uuid.uuid4().hex)
    first = services.cameras.add(local, CameraSpec("v0", "rtsp://10.0.0.1/0", group="city"))
    with services.db.write() as session:
        row = session.get_one(Camera, first.id)
        template = {c.key: getattr(row, c.key) for c in Camera.__table__.columns if c.key != "id"}
        session.execute(
            insert(Camera),
            [template | {"name": f"v{n}", "url": f"rtsp://10.0.0.1/{n}"} for n in range(1, count)],
        )
    with services.db.read() as session:
        return list(session.scalars(select(Camera.id).order_by(Camera.id)))


def progress(services: Any) -> tuple[int, int, float]:
    """Segments stored, analysed, and the age of the oldest not analysed (0: none)."""
    with services.db.read() as session:
        stored, waiting, oldest = session.execute(
            select(
                func.count(SegmentRow.id),
                func.count(SegmentRow.id).filter(SegmentRow.analysed_at.is_(None)),
                func.min(SegmentRow.end).filter(SegmentRow.analysed_at.is_(None)),
            )
        ).one()
    lag = 0.0 if oldest is None else time.time() - oldest.timestamp()
    return stored, stored - waiting, lag


@dataclass
class Region:
    """A region's control plane: its own PostgreSQL schema (standing in for the region's
    database) and NATS server, its cameras, ingest nodes and workers."""

    name: str
    data: Path
    services: Any
    cameras: list[int]


def open_region(
    name: str, root: Path, url: str, nats_url: str, cameras: int, index_every_s: float
) -> Region:
    data = root / name
    data.mkdir()
    config = {
        "database": {"url": url},
        "cluster": {"nats_url": nats_url, "secret": "s" * 40},
        "recording": {"index_every_s": index_every_s},
    }
    (data / "vigil.toml").write_text(render_config(parse_config(config)))
    initialise(data, admin_password=PASSWORD, request_id="bench")
    services = open_services(data)
    return Region(name, data, services, cameras_for(services, cameras))


def step(args: argparse.Namespace, regions: list[Region], rate: float) -> bool:
    """One rate for SECONDS, shared by the regions; whether it was sustained."""
    context = mp.get_context("spawn")
    share = int(rate * SEGMENT_S / len(regions))  # each region's cameras
    nodes, workers = [], []
    for region in regions:
        random.shuffle(region.cameras)
        cameras = region.cameras[:share]
        nodes += [
            context.Process(
                target=ingest,
                args=(
                    str(region.data),
                    f"{region.name}n{k}",
                    cameras[k :: args.ingest],
                    args.seconds,
                ),
            )
            for k in range(args.ingest)
        ]
        workers += [
            context.Process(
                target=work,
                args=(str(region.data), f"{region.name}w{k}", args.sightings, args.seconds + 20),
            )
            for k in range(args.workers)
        ]
    for process in workers + nodes:
        process.start()
    time.sleep(START_S)  # the processes' start-up (imports, connections) left out
    parts: dict[str, Callable[[], list[int]]] = {
        # Looked up at each reading: PostgreSQL starts a process for each new connection.
        "PostgreSQL": lambda: pids_named("postgres"),
        "NATS": lambda: pids_named("nats-server"),
        "ingest": lambda: [p.pid for p in nodes],
        "workers": lambda: [p.pid for p in workers],
    }
    cpu_before = {part: sum(cpu_s(p) for p in pids()) for part, pids in parts.items()}
    database = regions[0].services  # the regions' schemas share this machine's server
    commits0 = commits(database)
    before = [progress(r.services) for r in regions]
    began = time.monotonic()
    lags = []
    while time.monotonic() - began < args.seconds - 2 * START_S:  # the cameras' whole time
        time.sleep(SAMPLE_S)
        lags.append(max(progress(r.services)[2] for r in regions))
    elapsed = time.monotonic() - began
    after = [progress(r.services) for r in regions]
    cpu = {part: sum(cpu_s(p) for p in pids()) - cpu_before[part] for part, pids in parts.items()}
    transactions = commits(database) - commits0
    for process in nodes + workers:
        process.join(120)
    stored = sum(a[0] - b[0] for a, b in zip(after, before, strict=True)) / elapsed
    analysed = sum(a[1] - b[1] for a, b in zip(after, before, strict=True)) / elapsed
    lag = max(a[2] for a in after)
    jobs = max(analysed * elapsed, 1)
    print(
        f"rate {rate:,.0f}/s ({rate * SEGMENT_S:,.0f} virtual cameras): segments stored "
        f"{stored:,.0f}/s, results stored {analysed:,.0f}/s; lag at the end "
        f"{lag:.1f} s, largest {max(lags, default=0.0):.1f} s"
    )
    if len(regions) > 1:
        for region, a, b in zip(regions, after, before, strict=True):
            print(
                f"  region {region.name}: results stored {(a[1] - b[1]) / elapsed:,.0f}/s, "
                f"lag at the end {a[2]:.1f} s"
            )
    print(
        "  CPU a job: "
        + ", ".join(f"{part} {cpu[part] / jobs * 1e6:,.0f} us" for part in parts)
        + f" (all: {sum(cpu.values()) / elapsed:.2f} cores of {os.cpu_count()}); "
        f"PostgreSQL transactions a job {transactions / jobs:.2f}"
    )
    for region in regions:
        settle(region.services)
    return analysed >= SUSTAINED_SHARE * rate and lag <= LAG_BOUND_S


def commits(services: Any) -> int:
    """Transactions the database committed so far (all clients; the statistics lag by up
    to PostgreSQL's stats interval, a second, against a minute's count)."""
    with services.db.engine.connect() as conn:
        query = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        return int(conn.execute(text(query)).scalar_one())


def settle(services: Any) -> None:
    """What a rate left waiting is marked done, so that the next starts without a lag."""
    with services.db.write() as session:
        session.execute(
            SegmentRow.__table__.update()
            .where(SegmentRow.analysed_at.is_(None))
            .values(analysed_at=datetime.now(UTC))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,150,200,400,800")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--regions", type=int, default=1)
    parser.add_argument("--ingest", type=int, default=2, help="ingest processes a region")
    parser.add_argument("--workers", type=int, default=2, help="workers a region")
    parser.add_argument("--sightings", type=float, default=0.33, help="a job, on average")
    parser.add_argument("--index-every", type=float, default=0.0, help="recording.index_every_s")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    cameras = int(max(rates) * SEGMENT_S / args.regions)
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        regions = []
        for r in range(args.regions):
            url = stack.enter_context(fresh_schema(args.database_url, f"vigil_plane_r{r}"))
            nats = NatsServer(root / f"nats-r{r}").start()
            stack.callback(nats.stop)
            regions.append(open_region(f"r{r}", root, url, nats.url, cameras, args.index_every))
            stack.callback(regions[-1].services.close)
        print(
            f"{len(regions)} region(s) of {cameras:,} cameras; "
            f"PostgreSQL {pg_settings(regions[0].services)}"
        )
        for rate in rates:
            if not step(args, regions, rate):
                print(f"not sustained at {rate:,.0f} segments a second: stopped")
                break


def pg_settings(services: Any) -> str:
    with services.db.engine.connect() as conn:
        values = [
            f"{name} {conn.execute(text(f'SHOW {name}')).scalar_one()}"
            for name in ("fsync", "synchronous_commit", "shared_buffers")
        ]
    return ", ".join(values)


if __name__ == "__main__":
    main()
