"""The cluster's parts one at a time: config, the node-scoped index, the internal endpoint,
job publishing through a NATS outage, idempotent results, camera assignment."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from tests.cluster.servers import NatsServer
from tests.conftest import SQLITE_ONLY, Env
from tests.recorded import add_camera, record, wait_for
from tests.sightings import approved_entry, sightings_at
from tests.streams import free_port
from vigil.analytics.analyzer import AnalysisStats
from vigil.analytics.jobs import Outcome, SegmentJob
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.cluster.internal import InternalServer, internal_api
from vigil.cluster.jobs import JetStreamJobs
from vigil.cluster.link import NatsLink
from vigil.cluster.nodes import NodeDirectory, SegmentFetcher
from vigil.cluster.streams import JOBS
from vigil.cluster.worker import unreachable_delay
from vigil.config import ClusterConfig, parse_config, render_config
from vigil.errors import ConfigError, Forbidden, InvalidInput, NotFound, PeerUnavailable
from vigil.recording.index import SegmentIndex
from vigil.recording.records import Segment
from vigil.search.vectors import decode
from vigil.store.models import AlertRow, SightingRow, WatchlistPhoto

SECRET = "s" * 40
PG = "postgresql+psycopg://vigil@db/vigil"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"cluster": {"nats_url": "nats://n:4222", "secret": SECRET}}, "needs \\[database\\] url"),
        (
            {"database": {"url": PG}, "cluster": {"nats_url": "nats://n:4222", "secret": "short"}},
            "secret of 32",
        ),
        ({"cluster": {"node": "no spaces"}}, "cluster.node"),
        ({"cluster": {"internal_url": "ftp://x"}}, "cluster.internal_url"),
    ],
)
def test_cluster_mode_needs_postgresql_and_a_secret(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(raw)


def test_a_cluster_config_renders_its_secret_and_loads_back() -> None:
    config = parse_config(
        {"database": {"url": PG}, "cluster": {"nats_url": "nats://n:4222", "secret": SECRET}}
    )
    assert SECRET not in repr(config)
    text = render_config(config)
    assert SECRET in text
    import tomllib  # noqa: PLC0415

    assert parse_config(tomllib.loads(text)) == config


def _segment(camera: int, path: str, minutes: int) -> Segment:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return Segment(0, camera, start, start + timedelta(seconds=4), 100, "0" * 64, path)


@SQLITE_ONLY
def test_an_ingest_nodes_index_sees_its_own_segments_only(env: Env) -> None:
    camera = add_camera(env, "gate")
    a, b = SegmentIndex(env.services.db, "a"), SegmentIndex(env.services.db, "b")
    mine = a.add(_segment(camera, "1/a.mp4", 0))
    b.add(_segment(camera, "1/b.mp4", 1))
    assert mine.node == "a"
    assert [s.path for s in a.unanalysed(10)] == ["1/a.mp4"]
    assert a.paths() == {"1/a.mp4"}
    assert [s.path for s in a.oldest_unheld(10)] == ["1/a.mp4"]  # retention: its disk only
    assert a.total_bytes() == 100
    everyone = env.services.segments  # API nodes and the embedded mode see all
    assert everyone.paths() == {"1/a.mp4", "1/b.mp4"}
    assert everyone.backlog()[0] == 2


@SQLITE_ONLY
def test_the_internal_endpoint_serves_its_own_segments_to_holders_of_the_secret(
    env: Env,
) -> None:
    camera = add_camera(env, "gate")
    index = SegmentIndex(env.services.db, "a")
    path = env.services.media.path("1/a.mp4")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"footage")
    own = index.add(_segment(camera, "1/a.mp4", 0))
    other = SegmentIndex(env.services.db, "b").add(_segment(camera, "1/b.mp4", 1))
    client = TestClient(internal_api(index, env.services.media, env.services.live, SECRET))
    url = f"/internal/v1/segments/{own.id}"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    good = {"Authorization": f"Bearer {SECRET}"}
    served = client.get(url, headers=good)
    assert (served.status_code, served.content) == (200, b"footage")
    assert client.get(f"/internal/v1/segments/{other.id}", headers=good).status_code == 404
    assert client.get("/internal/v1/segments/999", headers=good).status_code == 404
    live = f"/internal/v1/cameras/{camera}/live.mp4"
    assert client.get(live).status_code == 401
    assert client.get(live, headers=good).status_code == 503  # not streaming on this node


@SQLITE_ONLY
def test_a_fetched_segment_is_checked_against_its_recorded_hash(env: Env) -> None:
    camera = add_camera(env, "gate")
    index = SegmentIndex(env.services.db, "a")
    (segment,) = record_on(env, index, camera)
    port = free_port()
    api = internal_api(index, env.services.media, env.services.live, SECRET)
    server = InternalServer(api, "127.0.0.1", port)
    server.start()
    try:
        nodes = NodeDirectory(env.services.db)
        fetcher = SegmentFetcher(nodes, SECRET)
        with pytest.raises(NotFound, match="no ingest node"):
            fetcher.fetch(segment)
        nodes.announce("a", f"http://127.0.0.1:{port}", starting=True)
        wait_for(lambda: _fetches(fetcher, segment))
        assert fetcher.fetch(segment) == env.services.media.path(segment.path).read_bytes()
        env.services.media.path(segment.path).write_bytes(b"tampered")
        with pytest.raises(PeerUnavailable, match="checksum"):
            fetcher.fetch(segment)
        with pytest.raises(PeerUnavailable, match="answered 401"):
            SegmentFetcher(nodes, "x" * 40).fetch(segment)
    finally:
        server.stop()
    with pytest.raises(PeerUnavailable, match="node a"):
        fetcher.fetch(segment)


def record_on(env: Env, index: SegmentIndex, camera: int) -> list[Segment]:
    """A real segment written through the writer, indexed as node ``index.node``'s."""
    original = env.services.segments
    object.__setattr__(env.services, "segments", index)
    try:
        return record(env, camera, time.time() - 60, 2)
    finally:
        object.__setattr__(env.services, "segments", original)


def _fetches(fetcher: SegmentFetcher, segment: Segment) -> bool:
    try:
        fetcher.fetch(segment)
    except PeerUnavailable:
        return False
    return True


def _job_count(url: str) -> int:
    async def count() -> int:
        client = await nats.connect(url)
        try:
            return int((await client.jetstream().stream_info(JOBS)).state.messages)
        finally:
            await client.close()

    return asyncio.run(count())


def test_jobs_wait_while_nats_is_down_and_go_once_it_is_up(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "store")  # not started yet: NATS is down
    link = NatsLink(ClusterConfig(nats_url=server.url), "test")
    link.start()
    jobs = JetStreamJobs(link, "a")
    try:
        began = time.monotonic()
        for segment_id in range(1, 6):
            jobs.submit(SegmentJob(segment_id, 1, Path("x.mp4"), 0.0, 4.0))
        assert time.monotonic() - began < 0.5  # recording is never held up
        time.sleep(1.5)
        assert jobs.backlog() == 5
        server.start()
        wait_for(lambda: jobs.backlog() == 0, timeout_s=30)
        jobs.submit(SegmentJob(3, 1, Path("x.mp4"), 0.0, 4.0))  # published again
        wait_for(lambda: jobs.published == 6)
        assert _job_count(server.url) == 5  # JetStream kept one of the two
        restarted = JetStreamJobs(link, "a")  # the node's next run publishes its backlog
        restarted.submit(SegmentJob(3, 1, Path("x.mp4"), 0.0, 4.0))
        wait_for(lambda: restarted.published == 1)
        restarted.close()
        assert _job_count(server.url) == 6  # not taken for a duplicate of the last run's
    finally:
        jobs.close()
        link.close()
        server.stop()


def test_a_job_redelivered_after_its_result_was_stored_adds_nothing(
    env: Env, portrait_path: Path
) -> None:
    approved_entry(env, portrait_path)
    camera = add_camera(env, "gate")
    (segment,) = record(env, camera, time.time() - 60, 2)
    with env.services.db.read() as session:
        reference = decode(session.scalars(select(WatchlistPhoto.embedding).limit(1)).one())
    outcome = Outcome(sightings_at(reference[np.newaxis, :], segment.start), AnalysisStats(), [])
    pipeline = env.services.analytics.pipeline
    job = pipeline.job(segment)

    assert len(pipeline.store_result(job, outcome)) == 1  # a match: one alert
    assert pipeline.store_result(job, outcome) == []  # the same job again: nothing
    assert pipeline.store_failure(job, "a late failure") is False
    assert _rows(env) == (1, 1)
    pipeline.store_result(replace(job, redo=True), outcome)  # re-analysis replaces
    assert _rows(env) == (1, 1)


def _rows(env: Env) -> tuple[int, int]:
    with env.services.db.read() as session:
        sightings = session.scalar(select(func.count(SightingRow.id)))
        alerts = session.scalar(select(func.count(AlertRow.id)))
    return int(sightings or 0), int(alerts or 0)


@SQLITE_ONLY
def test_assigning_a_camera_to_a_node_is_checked_and_audited(env: Env) -> None:
    add_camera(env, "gate")
    assert [t.name for t in env.services.cameras.ingest_targets("a")] == []
    env.services.cameras.assign(env.local(), "gate", "a")
    assert [t.name for t in env.services.cameras.ingest_targets("a")] == ["gate"]
    assert env.services.cameras.ingest_targets("b") == []
    assert len(env.services.cameras.ingest_targets()) == 1  # embedded: every camera
    with pytest.raises(InvalidInput, match="node name"):
        env.services.cameras.assign(env.local(), "gate", "a b")
    olga = env.add_user("olga", Role.OPERATOR, groups=("city",))
    with pytest.raises(Forbidden):
        env.services.cameras.assign(olga, "gate", "b")
    with env.services.db.read() as session:
        entries = env.services.audit.entries(session, EntryFilter(action="camera.assign"))
    done = [e for e in entries if str(e.outcome) == "allowed"]
    assert [json.loads(e.details_json)["to"] for e in done] == ["a"]
    refused = {json.loads(e.details_json)["reason"] for e in entries if e not in done}
    assert refused == {"forbidden", "invalid_input"}  # refusals are on the record too


@SQLITE_ONLY
def test_an_ingest_node_without_a_name_is_refused_clearly(env: Env) -> None:
    cluster = ClusterConfig(nats_url="nats://127.0.0.1:1", secret=SecretStr(SECRET))
    config = env.services.config.model_copy(update={"cluster": cluster})
    services = replace(env.services, config=config)
    with pytest.raises(ConfigError, match="--node NAME"):
        services.ingest_node()


def test_a_job_that_cannot_be_done_now_waits_longer_each_time() -> None:
    waits = [unreachable_delay(n) for n in range(1, 11)]
    assert waits[:4] == [5.0, 10.0, 20.0, 40.0]
    assert max(waits) == 60.0
    assert 300 <= sum(waits) <= 450  # ten deliveries wait out about six minutes
