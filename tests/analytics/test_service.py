"""Importing video is for roles that run analysis; refusals change nothing and are recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import Env
from tests.recorded import add_camera
from tests.streams import h264_file
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.errors import Forbidden, InvalidInput


def test_only_analysts_import_and_times_need_a_zone(env: Env, tmp_path: Path) -> None:
    add_camera(env, "gate")
    video = h264_file(tmp_path / "clip.mp4", 2.0)
    operator = env.add_user("olga", Role.OPERATOR)
    with pytest.raises(Forbidden):
        env.services.analytics.analyse_as_camera(operator, video, "gate", datetime.now(UTC))
    investigator = env.add_user("ivy", Role.INVESTIGATOR)
    with pytest.raises(InvalidInput, match="time zone"):
        env.services.analytics.analyse_as_camera(investigator, video, "gate", datetime(2026, 1, 1))  # noqa: DTZ001
    result = env.services.analytics.analyse_as_camera(
        investigator, video, "gate", datetime.now(UTC)
    )
    assert result.sightings == []  # a moving bar, no faces
    assert result.stats.frames_sampled == 10
    with env.services.db.read() as session:
        entries = env.services.audit.entries(session, EntryFilter(action="analysis.import"))
    assert [(e.actor, e.outcome) for e in reversed(entries)] == [
        ("olga", "denied"),
        ("ivy", "denied"),
        ("ivy", "allowed"),
    ]
