"""Fault tests: real servers stopped, killed and restarted under a running cluster; after
each, nothing recorded is lost and nothing is stored twice."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import select

from tests.cli_runner import vigil
from tests.cluster.conftest import Cluster
from tests.cluster.servers import PrivatePostgres
from tests.recorded import wait_for
from tests.streams import Simulator, people_folder
from vigil.auth.roles import LOCAL, RequestContext, Role
from vigil.store.models import RecordingGap, SegmentRow

# 139 s of a street door at 10 fps: about 7 s of analysis here, 12 sightings.
LONG_CLIP = "video/intel-sample-videos/one-by-one-person-detection.mp4"


def _analysed(cluster: Cluster, relative: str) -> bool:
    row = cluster.segment(relative)
    return row is not None and row.analysed_at is not None


def _since(cluster: Cluster, moment: float) -> list[SegmentRow]:
    with cluster.services.db.read() as session:
        return list(
            session.scalars(
                select(SegmentRow).where(SegmentRow.start >= datetime.fromtimestamp(moment, UTC))
            )
        )


def _analysed_until(cluster: Cluster, moment: float) -> bool:
    """Every segment that ended by then is analysed (its node still runs: a node's segments
    wait for it while it is down)."""
    with cluster.services.db.read() as session:
        waiting = session.scalars(
            select(SegmentRow.id).where(
                SegmentRow.end <= datetime.fromtimestamp(moment, UTC),
                SegmentRow.analysed_at.is_(None),
            )
        ).all()
    return time.time() > moment and not waiting


def _no_duplicates(cluster: Cluster) -> None:
    stores = cluster.stores_per_segment()
    assert stores, "no segment has sightings: nothing shows that duplicates would be seen"
    assert set(stores.values()) == {1}, f"segments stored more than once: {stores}"


def test_a_worker_killed_mid_job_leaves_the_job_to_another(
    cluster: Cluster, datasets: Path
) -> None:
    cluster.add_camera("door", "rtsp://127.0.0.1:1/door", node="a")
    cluster.services.cameras.set_enabled(RequestContext(LOCAL, "t"), "door", enabled=False)
    relative = cluster.place_segment(
        "a", "door", (datasets / LONG_CLIP).read_bytes(), time.time() - 3600, 139.4
    )
    cluster.ingest("a")
    cluster.worker("w1")
    wait_for(lambda: "analysing (delivery 1)" in cluster.log("w1"), timeout_s=90)
    time.sleep(1.0)  # a second into a 7-second analysis
    cluster.kill("w1")
    assert not _analysed(cluster, relative)
    cluster.worker("w2")
    wait_for(lambda: _analysed(cluster, relative), timeout_s=120)

    row = cluster.segment(relative)
    assert row is not None
    assert row.analysis_error is None
    assert row.analysis_attempts == 0  # a killed worker is no failed analysis
    assert "analysing (delivery 2)" in cluster.log("w2")
    _no_duplicates(cluster)
    state = cluster.queue()
    assert (state.jobs_waiting, state.jobs_in_progress, state.dead_letters) == (0, 0, 0)
    print(f"redelivered after kill -9: 1 job; sightings {cluster.counts()['sightings']}")


def test_a_corrupt_segment_goes_to_dead_letters_and_the_camera_goes_on(
    cluster: Cluster, tmp_path: Path, portrait_path: Path
) -> None:
    simulator = Simulator(people_folder(tmp_path, portrait_path)).start()
    try:
        cluster.add_camera("cam1", simulator.url(), node="a")
        # Seeded: about one in 300 random files is taken by FFmpeg for a one-frame H.263 video.
        garbage = random.Random(29).randbytes(200_000)
        corrupt = cluster.place_segment("a", "cam1", garbage, time.time() - 600, 2.0)
        cluster.ingest("a")
        cluster.worker()
        wait_for(lambda: len(cluster.dead_letters()) == 1, timeout_s=90)
        wait_for(lambda: cluster.counts()["analysed"] >= 6, timeout_s=90)  # the bad one too
        cutoff = time.time()
        wait_for(lambda: _analysed_until(cluster, cutoff), timeout_s=90)
    finally:
        simulator.stop()

    bad = cluster.segment(corrupt)
    assert bad is not None
    (letter,) = cluster.dead_letters()
    assert letter["segment_id"] == bad.id
    assert "not a readable video" in letter["error"]
    assert bad.analysis_attempts == 3  # MAX_ATTEMPTS, then given up
    assert bad.analysis_error is not None
    with cluster.services.db.read() as session:
        others = list(
            session.scalars(
                select(SegmentRow).where(
                    SegmentRow.id != bad.id, SegmentRow.end <= datetime.fromtimestamp(cutoff, UTC)
                )
            )
        )
    assert len(others) >= 5
    assert all(s.analysed_at is not None and s.analysis_error is None for s in others)
    assert cluster.counts()["sightings"] > 0
    status = vigil(cluster.data_dir, "status", "--json")
    assert status.code == 0, status.stderr
    assert status.json()["cluster"]["dead_letters"] == 1
    assert status.json()["analysis"]["failed_segments"] == 1


def test_segments_recorded_while_nats_is_down_are_analysed_when_it_returns(
    cluster: Cluster, tmp_path: Path, portrait_path: Path
) -> None:
    simulator = Simulator(people_folder(tmp_path, portrait_path)).start()
    try:
        cluster.add_camera("cam1", simulator.url(), node="a")
        cluster.ingest("a")
        cluster.worker()
        wait_for(lambda: cluster.counts()["analysed"] >= 2, timeout_s=90)
        cluster.nats.stop()
        down = time.time()
        time.sleep(30)
        during = _since(cluster, down)
        cluster.nats.start()
        up = time.time()
        wait_for(lambda: _analysed_until(cluster, up + 4), timeout_s=120)
    finally:
        simulator.stop()

    recorded_meanwhile = [s for s in during if s.end.timestamp() <= up]
    assert len(recorded_meanwhile) >= 10  # 2-second segments for 30 s: recording went on
    with cluster.services.db.read() as session:
        gaps = session.scalars(
            select(RecordingGap).where(RecordingGap.start >= datetime.fromtimestamp(down, UTC))
        ).all()
    assert [g for g in gaps if g.start.timestamp() <= up] == []  # none while NATS was away
    _no_duplicates(cluster)
    print(f"recorded while NATS was down: {len(recorded_meanwhile)} segments, all analysed after")


def test_ingest_workers_and_api_recover_from_a_postgresql_restart(
    cluster: Cluster, private_postgres: PrivatePostgres, tmp_path: Path, portrait_path: Path
) -> None:
    simulator = Simulator(people_folder(tmp_path, portrait_path)).start()
    try:
        cluster.add_camera("cam1", simulator.url(), node="a")
        cluster.env.add_user("olga", Role.OPERATOR, groups=("city",))
        token = cluster.env.own_token("olga")
        cluster.ingest("a")
        cluster.worker()
        base = cluster.api_node()
        headers = {"Authorization": f"Bearer {token}"}
        wait_for(lambda: cluster.counts()["analysed"] >= 2, timeout_s=90)
        private_postgres.stop()
        down = time.time()
        time.sleep(10)
        private_postgres.start()
        up = time.time()
        wait_for(lambda: _ok(f"{base}/api/v1/cameras", headers), timeout_s=60)
        wait_for(lambda: len(_since(cluster, up)) >= 2, timeout_s=60)
        wait_for(lambda: _analysed_until(cluster, up + 4), timeout_s=120)
        cluster.stop("a")
    finally:
        simulator.stop()

    media = cluster.node_dir("a") / "media"
    on_disk = {str(p.relative_to(media)) for p in media.rglob("*.mp4")}
    with cluster.services.db.read() as session:
        indexed = set(session.scalars(select(SegmentRow.path)))
    assert on_disk == indexed  # every segment written during the outage was indexed after
    recorded_meanwhile = [s for s in _since(cluster, down) if s.end.timestamp() <= up]
    assert len(recorded_meanwhile) >= 3
    _no_duplicates(cluster)
    print(f"recorded while PostgreSQL was down: {len(recorded_meanwhile)} segments")


def _ok(url: str, headers: dict[str, str]) -> bool:
    try:
        return httpx.get(url, headers=headers, timeout=5).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False
