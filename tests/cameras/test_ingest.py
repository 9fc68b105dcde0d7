"""Ingest supervisors on real streams: files, dead cameras, a full disk."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.recorded import add_camera, make_recorder, wait_for
from tests.streams import free_port, h264_file


@pytest.fixture
def clip_file(env: Env) -> Path:
    """A 10-fps clip in the import directory, where file sources may be."""
    return h264_file(env.data_dir / "imports" / "clip.mp4", 10.0)


def test_a_dead_camera_never_stops_a_live_one_and_hides_its_password(
    env: Env, clip_file: Path
) -> None:
    dead = add_camera(env, "dead", url=f"rtsp://admin:Sup3rSecret@127.0.0.1:{free_port()}/x")
    alive = add_camera(env, "alive", url=f"file://{clip_file}")
    recorder = make_recorder(env)
    recorder.start()
    try:
        wait_for(lambda: env.services.segments.coverage(alive)["segments"] >= 2)
        wait_for(lambda: recorder.supervisors[dead].reconnects >= 3)
        dead_health = recorder.supervisors[dead].health()
        alive_health = recorder.supervisors[alive].health()
    finally:
        recorder.stop()
    assert dead_health.state in ("offline", "connecting")
    assert dead_health.error is not None
    assert "Sup3rSecret" not in dead_health.error
    assert "refused" in dead_health.error.lower()
    assert alive_health.state == "online"
    assert 8 <= alive_health.fps <= 12  # the file plays at its own 10 fps, like a camera
    (gap,) = env.services.segments.gaps(dead)
    assert gap.reason == "source lost"
    assert env.services.segments.health(alive) is not None  # saved for other processes


def test_a_full_disk_is_reported_and_survived(env: Env, clip_file: Path) -> None:
    camera = add_camera(env, "gate", url=f"file://{clip_file}")
    env.services.media.min_free_bytes = 2**62  # the reserve is never there
    recorder = make_recorder(env)
    recorder.start()
    try:
        supervisor = recorder.supervisors[camera]
        wait_for(lambda: supervisor.state == "disk_full")
        assert "free" in (supervisor.error or "")
        assert env.services.segments.coverage(camera)["segments"] == 0
        env.services.media.min_free_bytes = 0  # space came back
        wait_for(lambda: env.services.segments.coverage(camera)["segments"] >= 1)
        assert supervisor.alive
    finally:
        recorder.stop()
    gaps = env.services.segments.gaps(camera)
    assert [g.reason for g in gaps] == ["disk full"]
    assert gaps[0].end is not None


def test_a_file_that_is_not_video_is_a_clear_source_error(env: Env) -> None:
    junk = env.data_dir / "imports" / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    camera = add_camera(env, "junk", url=f"file://{junk}")
    recorder = make_recorder(env)
    recorder.start()
    try:
        wait_for(lambda: recorder.supervisors[camera].reconnects >= 2)
        health = recorder.supervisors[camera].health()
    finally:
        recorder.stop()
    assert health.error is not None
    assert health.error.startswith("cannot open the stream")
    assert str(junk) not in health.error


def test_a_camera_that_accepts_but_never_answers_is_given_up_on_within_the_timeout(
    env: Env,
) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # takes connections, says nothing
    port = silent.getsockname()[1]
    camera = add_camera(env, "mute", url=f"rtsp://127.0.0.1:{port}/x")
    recorder = make_recorder(env, open_timeout_s=1.0)
    recorder.start()
    try:
        began = time.monotonic()
        wait_for(lambda: recorder.supervisors[camera].reconnects >= 3)
        took = time.monotonic() - began
        health = recorder.supervisors[camera].health()
    finally:
        recorder.stop()
        silent.close()
    # Three attempts of at most 1 s each, with backoff of 0.5 s and 1 s between: ~4.5 s.
    assert took < 8.0  # an attempt that ignored its timeout would hang here for good
    assert health.error == "cannot open the stream: no answer within 1 s"
