"""The simulated scenes: reproducible, and the ground truth matches what the frames show."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from tests.streams import people_folder
from vigil.errors import InvalidInput
from vigil.sim.scenario import Renderer, Scenario, load_people, write_truth

STARTED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def scenario(tmp_path: Path, portrait_path: Path) -> Scenario:
    people = load_people(people_folder(tmp_path, portrait_path), None, random.Random(0))
    return Scenario(cameras=["cam1", "cam2"], people=people, started_at=STARTED, seed=3)


def test_the_same_seed_gives_the_same_truth_and_frames(scenario: Scenario) -> None:
    again = Scenario(scenario.cameras, scenario.people, STARTED, seed=3)
    assert scenario.truth(300) == again.truth(300)
    assert np.array_equal(Renderer(scenario, "cam1").frame(7.3), Renderer(again, "cam1").frame(7.3))
    other = Scenario(scenario.cameras, scenario.people, STARTED, seed=4)
    assert scenario.truth(300) != other.truth(300)


def test_a_person_is_in_the_frame_exactly_while_the_truth_says_so(scenario: Scenario) -> None:
    truth = scenario.truth(120)
    rows = [r for r in truth["appearances"] if r["camera"] == "cam1"]
    assert len(rows) >= 5  # about six a minute
    renderer = Renderer(scenario, "cam1")
    sprite_w, _ = scenario.sprite_size
    for appearance in scenario.appearances_until(120):
        if appearance.camera != "cam1" or appearance.exit_s > 120:
            continue
        start, end = appearance.in_view(scenario.width, sprite_w)
        for t in np.linspace(start + 0.01, end - 0.01, 5):
            x = appearance.position(float(t), scenario.width, sprite_w)
            assert x >= 0
            assert x + sprite_w <= scenario.width
        for t in (appearance.enter_s + 0.01, appearance.exit_s - 0.01):
            x = appearance.position(t, scenario.width, sprite_w)
            assert x < 0 or x + sprite_w > scenario.width  # only partly in view
    row = rows[0]
    assert row["photo"].endswith("Grace_Hopper_0001.jpg")
    assert datetime.fromisoformat(row["start"]) > STARTED
    for r in rows:  # in the picture at all: from before full view until after it
        at = [datetime.fromisoformat(r[key]) for key in ("enters", "start", "end", "leaves")]
        assert at == sorted(set(at))
    assert renderer.frame(1.0).shape == (360, 640, 3)


def test_people_come_from_a_person_per_folder_layout(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="no person folders"):
        load_people(tmp_path / "empty", None, random.Random(0))
    with pytest.raises(InvalidInput, match="not a folder"):
        load_people(tmp_path / "missing", None, random.Random(0))
    walkers = load_people(None, 3, random.Random(0))
    assert [w.photo for w in walkers] == [None, None, None]


def test_truth_files_are_replaced_whole(scenario: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    write_truth(path, scenario.truth(60))
    write_truth(path, scenario.truth(120))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert '"until": "2026-11-23T12:02:00.000+00:00"' in path.read_text()
