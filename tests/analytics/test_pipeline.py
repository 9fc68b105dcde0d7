"""Every recorded segment is analysed in a worker process; re-running one replaces its rows."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from tests.cli_runner import vigil
from tests.conftest import SQLITE_ONLY, Env
from tests.recorded import add_camera
from tests.sightings import default_width, sightings_at
from tests.streams import h264_fragments, people_folder
from vigil.analytics.analyzer import AnalysisStats
from vigil.analytics.jobs import Outcome
from vigil.analytics.pipeline import MAX_ATTEMPTS, backlog
from vigil.auth.roles import Role
from vigil.crowds.counting import Count
from vigil.recording.records import Segment
from vigil.recording.segments import SegmentWriter
from vigil.sim.scenario import Renderer, Scenario, load_people
from vigil.store.models import Camera, PeopleCount, SegmentRow, SightingRow

SECONDS = 12


def _recorded(env: Env, camera_id: int, portrait: Path, tmp: Path) -> list[Segment]:
    """Segments of a simulated scene (people walking by), written as the recorder does."""
    people = load_people(people_folder(tmp, portrait), None, random.Random(0))
    scenario = Scenario(["cam1"], people, datetime.now(UTC), seed=1)
    renderer = Renderer(scenario, "cam1")
    init, fragments = h264_fragments(SECONDS, size=(640, 360), frames=renderer.frame)
    closed: list[Segment] = []
    writer = SegmentWriter(camera_id, env.services.media, env.services.segments, 4.0, closed.append)
    writer.begin(init)
    start = scenario.started_at.timestamp()
    for i, fragment in enumerate(fragments):
        writer.add(fragment, start + i, start + i + 1)
    writer.finish()
    assert writer.flush(30.0)
    assert not writer.unindexed
    return closed


def _sightings(env: Env) -> list[tuple[int | None, datetime]]:
    with env.services.db.read() as session:
        rows = session.execute(select(SightingRow.segment_id, SightingRow.start))
        return sorted((segment, start) for segment, start in rows)


def _wait_for_no_backlog(env: Env, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while backlog(env.services.segments).segments and time.monotonic() < deadline:
        time.sleep(0.2)
    assert backlog(env.services.segments).segments == 0


@pytest.mark.slow
def test_segments_are_analysed_once_each_and_rerunning_replaces(
    env: Env, tmp_path: Path, portrait_path: Path
) -> None:
    camera = add_camera(env, "gate")
    segments = _recorded(env, camera, portrait_path, tmp_path)
    assert len(segments) == 3  # the writer's hook saw every closed segment
    waiting = backlog(env.services.segments)
    assert waiting.segments == 3
    assert waiting.lag_s(datetime.now(UTC)) >= 0

    # Analysed again long after they ended, the segments must be seen as they were the first
    # time: at their camera's rate (no back-pressure) and the scale nothing was learned at.
    analytics = env.services.config.analytics.model_copy(
        update={"busy_lag_s": 86_399, "lag_bound_s": 86_400}
    )
    services = replace(
        env.services, config=env.services.config.model_copy(update={"analytics": analytics})
    )
    pipeline, queue = env.services.analytics.pipeline, services.analysis()
    try:
        assert pipeline.start(queue) == 3
        _wait_for_no_backlog(env)
        first = _sightings(env)
        assert first, "the walkers should be seen"
        assert {segment for segment, _ in first} <= {s.id for s in segments}

        with env.services.db.write() as session:  # as after a crash before the marks
            session.execute(update(SegmentRow).values(analysed_at=None))
            session.execute(update(Camera).values(face_px=None))
        assert pipeline.start(queue) == 3
        _wait_for_no_backlog(env)
        assert _sightings(env) == first  # replaced, not duplicated
        assert queue.failed == 0
        assert queue.done == 6
    finally:
        queue.close()


@pytest.mark.slow
def test_a_segment_that_cannot_be_analysed_is_counted_and_holds_nothing_up(
    env: Env, tmp_path: Path, portrait_path: Path
) -> None:
    camera = add_camera(env, "gate")
    segments = _recorded(env, camera, portrait_path, tmp_path)
    broken = env.services.media.path(segments[1].path)
    broken.write_bytes(b"\x00" * 1000)  # a damaged file on disk
    pipeline, queue = env.services.analytics.pipeline, env.services.analysis()
    try:
        pipeline.start(queue)
        _wait_for_no_backlog(env)
    finally:
        queue.close()
    assert (queue.done, queue.failed) == (2, MAX_ATTEMPTS)  # tried again, then given up
    with env.services.db.read() as session:
        row = session.get(SegmentRow, segments[1].id)
        assert row is not None
        assert row.analysis_attempts == MAX_ATTEMPTS
        assert "not a readable video" in (row.analysis_error or "")
    assert {segment for segment, _ in _sightings(env)} <= {segments[0].id, segments[2].id}
    status = vigil(env.data_dir, "status", "--json")
    assert status.json()["analysis"]["failed_segments"] == 1
    metrics = env.services.monitoring.scrape(env.add_user("audrey", Role.AUDITOR)).decode()
    assert "vigil_analysis_failed_segments 1.0" in metrics


@pytest.mark.slow
@SQLITE_ONLY  # about processes and signals, not the store
def test_ctrl_c_leaves_the_workers_running_and_a_closed_queue_keeps_the_backlog(
    env: Env, tmp_path: Path, portrait_path: Path
) -> None:
    camera = add_camera(env, "gate")
    segments = _recorded(env, camera, portrait_path, tmp_path)
    pipeline, queue = env.services.analytics.pipeline, env.services.analysis()
    try:
        pipeline.start(queue)
        _wait_for_no_backlog(env)
        workers = multiprocessing.active_children()
        assert workers
        for worker in workers:  # what Ctrl-C in a terminal does to the whole group
            os.kill(worker.pid or 0, signal.SIGINT)
        with env.services.db.write() as session:
            session.execute(update(SegmentRow).values(analysed_at=None))
        assert pipeline.start(queue) == len(segments)
        _wait_for_no_backlog(env)
        assert queue.failed == 0
        assert all(worker.is_alive() for worker in workers)
    finally:
        queue.close()
    with env.services.db.write() as session:
        session.execute(update(SegmentRow).values(analysed_at=None))
    pipeline.segment_closed(segments[0])  # a camera's last segment, after the close
    assert queue.backlog() == 0
    assert backlog(env.services.segments).segments == len(segments)  # kept for next start


def test_status_shows_the_backlog(env: Env) -> None:
    camera = add_camera(env, "gate")
    segment = Segment(
        0,
        camera,
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, 4, tzinfo=UTC),
        1,
        "0" * 64,
        "1/x.mp4",
    )
    env.services.segments.add(segment)
    result = vigil(env.data_dir, "status", "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["analysis"]["segments"] == 1
    assert data["analysis"]["oldest_end"] == "2026-01-01T00:00:04+00:00"
    assert data["analysis"]["lag_s"] > 0
    assert [c["camera"] for c in data["cameras"]] == ["gate"]
    assert data["cameras"][0]["state"] == "never recorded"


def test_a_segment_deleted_before_its_analysis_is_skipped(env: Env) -> None:
    pipeline = env.services.analytics.pipeline
    camera = add_camera(env, "gate")
    segment = env.services.segments.add(
        Segment(
            0,
            camera,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 2, tzinfo=UTC),
            1,
            "0" * 64,
            "1/y.mp4",
        )
    )
    job = pipeline.job(segment)
    assert job.sample_fps is None  # the configured default
    env.services.cameras.set_analysis_fps(env.local(), "gate", 1.5)
    assert pipeline.job(segment).sample_fps == 1.5
    env.services.segments.remove([segment.id])
    pipeline.store_result(job, Outcome([], AnalysisStats(), []))
    assert _sightings(env) == []


def test_a_zone_approved_while_a_segment_was_analysed_keeps_its_faces_out(env: Env) -> None:
    """The job was made before the zone (its faces to be identified); its result is stored
    after: the zone's check at storing keeps its sightings out, and its counts in."""
    pipeline = env.services.analytics.pipeline
    camera = add_camera(env, "square", group="plaza")
    now = datetime.now(UTC)
    segment = env.services.segments.add(
        Segment(0, camera, now - timedelta(seconds=8), now - timedelta(seconds=4), 1, "0" * 64,
                "1/z.mp4")
    )  # fmt: skip
    job = pipeline.job(segment)
    assert job.identify
    ada = env.add_user("ada", Role.ADMIN)
    sue = env.add_user("sue", Role.SUPERVISOR, groups=("plaza",))
    zone = env.services.zones.propose(
        ada, "an assembly", group="plaza", start=now - timedelta(minutes=1)
    )
    env.services.zones.approve(sue, zone.id)
    face = sightings_at(np.full((1, default_width()), 0.05, np.float32), segment.start)
    counts = [Count(segment.start.timestamp(), 3)]
    pipeline.store_result(job, Outcome(face, AnalysisStats(), counts))
    assert _sightings(env) == []
    with env.services.db.read() as session:
        assert list(session.scalars(select(PeopleCount.people))) == [3]
        assert session.get_one(SegmentRow, segment.id).analysed_at is not None


@pytest.mark.slow
@SQLITE_ONLY  # the CLI's subject; the pipeline's store runs on both backends above
def test_reanalysis_from_the_command_line_replaces_sightings(
    env: Env, tmp_path: Path, portrait_path: Path
) -> None:
    camera = add_camera(env, "gate")
    segments = _recorded(env, camera, portrait_path, tmp_path)
    span = ("--from", segments[0].start.isoformat(), "--to", segments[-1].end.isoformat())
    first = vigil(env.data_dir, "analyze", "--camera", "gate", *span, "--json")
    assert first.code == 0, first.stderr
    assert first.json()["segments"] == 3
    assert first.json()["sightings"] >= 1
    stored = _sightings(env)
    again = vigil(env.data_dir, "analyze", "--camera", "gate", *span, "--json")
    assert again.json() == first.json()
    assert _sightings(env) == stored
    assert backlog(env.services.segments).segments == 0
    missing = vigil(env.data_dir, "analyze", "--camera", "gate")
    assert missing.code == 2
    assert "--from and --to" in missing.stderr
    env.services.media.path(segments[0].path).write_bytes(b"\x00" * 1000)  # damaged on disk
    damaged = vigil(env.data_dir, "analyze", "--camera", "gate", *span, "--json")
    assert damaged.code == 0, damaged.stderr
    assert (damaged.json()["segments"], damaged.json()["failed"]) == (3, 1)
    assert _sightings(env) == stored  # the others again; the damaged one keeps what it had
