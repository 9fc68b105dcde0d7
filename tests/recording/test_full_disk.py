"""Recording on a real small filesystem (a tmpfs the test mounts): retention keeps the disk
from filling without ever emptying the archive, and a full disk neither stops the stream
nor makes a camera reconnect."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SQLITE_ONLY, Env
from tests.disks import fill
from tests.recorded import add_camera, make_recorder, record, wait_for
from tests.streams import h264_fragments
from vigil.audit.log import EntryFilter
from vigil.recording.records import Segment
from vigil.recording.service import TimeRange

KIB = 1024
MIB = 1024 * KIB


def _media_on(env: Env, disk: Path, reserve: int) -> None:
    env.services.media.root = disk / "media"
    env.services.media.min_free_bytes = reserve


def _noise_clip(env: Env, seconds: float) -> Path:
    """Video that does not compress (sensor noise): about 140 kB/s, like a busy camera."""
    rng = np.random.default_rng(7)
    init, fragments = h264_fragments(
        seconds, frames=lambda _t: rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    )
    path = env.data_dir / "imports" / "noise.mp4"
    path.write_bytes(init + b"".join(fragments))
    return path


def _entries(env: Env, action: str) -> list[dict[str, object]]:
    with env.services.db.read() as session:
        found = env.services.audit.entries(session, EntryFilter(action=action))
        return [e.details for e in reversed(found)]  # oldest first


def test_a_disk_filled_by_another_program_never_costs_each_cameras_newest_footage(
    env: Env, small_disk: Callable[[int], Path]
) -> None:
    disk = small_disk(4 * MIB)
    _media_on(env, disk, reserve=256 * KIB)
    now = float(int(time.time()))
    cameras = {name: add_camera(env, name) for name in ("gate", "yard")}
    recorded = {name: record(env, camera, now - 120, 120) for name, camera in cameras.items()}
    held = recorded["gate"][3]
    sam = env.add_user("sam", "supervisor", groups=("city",))
    env.services.recordings.hold(sam, "gate", TimeRange(held.start, held.end), "case 4")
    recorder = make_recorder(env, floor_hours=30 / 3600)
    assert recorder.prune().pressure is None  # plenty of room: nothing goes

    passes = 0
    while (result := recorder.prune()).segments or passes == 0:
        fill(disk)  # another program grows into every byte retention frees
        passes += 1
        assert passes < 100

    assert passes > 1
    assert result.pressure is not None
    assert "newest" in result.pressure
    kept_total = 0
    for name, camera in cameras.items():
        left = env.services.segments.between(camera, held.start - timedelta(days=1), _utc(now))
        floor = max(s.end for s in recorded[name]) - timedelta(seconds=30)  # its last 30 s
        kept = [s for s in recorded[name] if s.end > floor or s is held]
        assert [s.id for s in left] == [s.id for s in kept]  # the floor and the hold, no more
        assert len(kept) >= 15
        assert all(env.services.media.path(s.path).exists() for s in kept)
        kept_total += len(kept)
    (disk_state,) = env.services.segments.storage()
    assert disk_state.state == "disk_pressure"
    assert disk_state.free_bytes < 256 * KIB
    pruned = _entries(env, "recording.prune")
    assert {e["why"] for e in pruned} == {"free_space"}
    made = sum(len(r) for r in recorded.values())
    assert sum(int(str(e["segments"])) for e in pruned) == made - kept_total
    assert [e["state"] for e in _entries(env, "recording.disk_pressure")] == ["begun"]

    (disk / "filler").unlink()
    assert recorder.prune().pressure is None
    assert env.services.segments.storage()[0].state == "ok"
    assert [e["state"] for e in _entries(env, "recording.disk_pressure")] == ["begun", "ended"]


@SQLITE_ONLY
def test_recording_into_a_disk_kept_full_by_retention_leaves_no_gaps(
    env: Env, small_disk: Callable[[int], Path]
) -> None:
    disk = small_disk(5 * MIB)
    _media_on(env, disk, reserve=512 * KIB)
    clip = _noise_clip(env, 60.0)
    cameras = [add_camera(env, name, url=f"file://{clip}") for name in ("gate", "yard")]
    made: list[Segment] = []
    recorder = make_recorder(env, made.append, floor_hours=4 / 3600, headroom_s=8)
    recorder.start()
    states: set[str] = set()
    try:
        deadline = time.monotonic() + 40  # about 11 MB written: the disk turns over twice
        while time.monotonic() < deadline:
            states |= {s.state for s in recorder.supervisors.values()}
            time.sleep(0.2)
        reconnects = [s.reconnects for s in recorder.supervisors.values()]
    finally:
        recorder.stop()

    assert "online" in states
    assert states <= {"connecting", "online"}
    assert reconnects == [0, 0]
    for camera in cameras:
        assert env.services.segments.gaps(camera) == []
    pruned = _entries(env, "recording.prune")
    assert pruned
    assert {e["why"] for e in pruned} == {"free_space"}
    left = {s.id for c in cameras for s in env.services.segments.between(c, _utc(0), _utc(2e9))}
    deleted = [s for s in made if s.id not in left]
    kept = [s for s in made if s.id in left]
    assert sum(s.bytes for s in deleted) > 5 * MIB  # the disk was filled and turned over
    assert max(s.start for s in deleted) <= min(s.start for s in kept)  # oldest first
    assert env.services.segments.storage()[0].state == "ok"


@SQLITE_ONLY
def test_on_a_full_disk_a_camera_stays_disk_full_and_live_without_reconnecting(
    env: Env, small_disk: Callable[[int], Path], caplog: pytest.LogCaptureFixture
) -> None:
    disk = small_disk(2 * MIB)
    _media_on(env, disk, reserve=256 * KIB)
    clip = _noise_clip(env, 40.0)
    camera = add_camera(env, "gate", url=f"file://{clip}")
    filler = fill(disk)
    recorder = make_recorder(env)
    caplog.set_level(logging.INFO, logger="vigil.cameras.ingest")
    recorder.start()
    try:
        supervisor = recorder.supervisors[camera]
        wait_for(lambda: supervisor.state == "disk_full")
        states = set()
        for _ in range(30):  # 6 s of a full disk
            states.add(supervisor.state)
            assert env.services.live.join(camera) is not None  # the live view goes on
            time.sleep(0.2)
        assert states == {"disk_full"}
        assert supervisor.reconnects == 0
        assert env.services.segments.coverage(camera)["segments"] == 0
        assert env.services.segments.storage()[0].state == "disk_pressure"
        filler.unlink()  # room again: recording resumes on the same connection
        wait_for(lambda: env.services.segments.coverage(camera)["segments"] >= 1)
        assert supervisor.state == "online"
        assert supervisor.reconnects == 0
    finally:
        recorder.stop()
    (gap,) = env.services.segments.gaps(camera)
    assert gap.reason == "disk full"
    assert gap.end is not None
    warnings = [
        r
        for r in caplog.records
        if r.name == "vigil.cameras.ingest" and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1
    assert "not recording" in warnings[0].getMessage()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
