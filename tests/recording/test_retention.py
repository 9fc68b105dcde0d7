"""Retention by age and disk budget, oldest first, never touching footage under a hold."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.conftest import Env
from tests.recorded import add_camera, make_recorder, record
from vigil.audit.log import EntryFilter
from vigil.recording.retention import RetentionPolicy
from vigil.recording.service import TimeRange

DAY = 86400.0


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def test_old_segments_go_held_ones_stay_and_the_pass_is_audited(env: Env) -> None:
    camera = add_camera(env, "gate")
    now = time.time()
    old = record(env, camera, now - 40 * DAY, 6)  # three 2-s segments, 40 days old
    recent = record(env, camera, now - 60, 4)
    held = old[1]
    supervisor = env.add_user("sam", "supervisor")
    env.services.groups.grant(env.local(), "city", "sam")
    env.services.recordings.hold(supervisor, "gate", TimeRange(held.start, held.end), "case 7")

    result = make_recorder(env, retain_days=30).prune()

    assert result.segments == 2
    left = env.services.segments.between(camera, _utc(0), _utc(now + 1))
    assert [s.id for s in left] == [held.id] + [s.id for s in recent]
    for segment in old:
        assert env.services.media.path(segment.path).exists() == (segment is held)
    with env.services.db.read() as session:
        (entry,) = env.services.audit.entries(session, EntryFilter(action="recording.prune"))
    assert entry.actor == "system"
    assert entry.details["segments"] == 2


def test_over_the_disk_budget_the_oldest_unheld_go_first(env: Env) -> None:
    camera = add_camera(env, "gate")
    now = time.time()
    segments = record(env, camera, now - 600, 10)  # five segments
    first, second, third = segments[:3]
    supervisor = env.add_user("sam", "supervisor")
    env.services.groups.grant(env.local(), "city", "sam")
    env.services.recordings.hold(supervisor, "gate", TimeRange(first.start, first.end), "kept")
    recorder = make_recorder(env)
    budget = sum(s.bytes for s in segments) - second.bytes - third.bytes // 2
    recorder.retention.policy = RetentionPolicy(
        retain_days=30, max_bytes=budget, reserve_bytes=0, floor_s=0, headroom_s=60
    )

    result = recorder.prune()

    left = [s.id for s in env.services.segments.between(camera, _utc(0), _utc(now))]
    assert left == [first.id] + [s.id for s in segments[3:]]
    assert result.segments == 2
    assert env.services.segments.total_bytes() <= budget


def test_a_released_hold_no_longer_protects(env: Env) -> None:
    camera = add_camera(env, "gate")
    now = time.time()
    (old,) = record(env, camera, now - 40 * DAY, 2)
    supervisor = env.add_user("sam", "supervisor")
    env.services.groups.grant(env.local(), "city", "sam")
    hold = env.services.recordings.hold(
        supervisor, "gate", TimeRange(old.start - timedelta(hours=1), old.end), "case 8"
    )
    assert make_recorder(env, retain_days=30).prune().segments == 0
    env.services.recordings.release(supervisor, hold.id)
    assert make_recorder(env, retain_days=30).prune().segments == 1


def test_the_floor_keeps_the_newest_floor_s_and_no_more(env: Env) -> None:
    """With a budget of nothing, a 4 s floor keeps the segments reaching into the last 4 s
    of the camera's footage: two 2-s segments, not a third one before them (issue 28: on a
    disk just big enough for the floor and the reserve, that extra segment was a gap)."""
    camera = add_camera(env, "gate")
    now = time.time()
    segments = record(env, camera, now - 600, 10)  # five 2-s segments
    recorder = make_recorder(env)
    recorder.retention.policy = RetentionPolicy(
        retain_days=30, max_bytes=1, reserve_bytes=0, floor_s=4, headroom_s=0
    )
    result = recorder.prune()
    left = [s.id for s in env.services.segments.between(camera, _utc(0), _utc(now))]
    assert left == [s.id for s in segments[-2:]]
    assert result.segments == 3
    assert result.pressure is not None  # what is left is the floor
