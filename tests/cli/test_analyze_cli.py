"""``vigil analyze``: a video file becomes sightings of a camera, on the record."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from tests.cli_runner import vigil
from tests.conftest import make_env
from tests.recorded import add_camera
from tests.streams import people_folder, scene_video
from vigil.audit.log import EntryFilter
from vigil.sim.scenario import Renderer, Scenario, load_people
from vigil.store.models import SightingRow


def test_analyze_a_file_then_refuse_bad_ones(tmp_path: Path, portrait_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    add_camera(env, "gate")
    people = load_people(people_folder(tmp_path, portrait_path), None, random.Random(0))
    scenario = Scenario(["cam1"], people, datetime(2026, 1, 1, tzinfo=UTC), seed=1)
    video = scene_video(tmp_path / "walk.mp4", Renderer(scenario, "cam1"), 9)
    data = env.data_dir

    done = vigil(
        data, "analyze", str(video), "--camera", "gate", "--start", "2026-11-20T08:00:00Z", "--json"
    )
    assert done.code == 0, done.stderr
    result = done.json()
    assert result["sightings"] >= 1
    assert result["start"] == "2026-11-20T08:00:00+00:00"
    assert result["frames_sampled"] == 45

    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    refused = vigil(data, "analyze", str(junk), "--camera", "gate")
    assert refused.code == 2
    assert "junk.mp4 is not a readable video" in refused.stderr
    unknown = vigil(data, "analyze", str(video), "--camera", "nowhere")
    assert unknown.code == 3

    with env.services.db.read() as session:
        stored = session.scalar(select(func.count(SightingRow.id)))
        first = session.scalar(select(SightingRow).order_by(SightingRow.start).limit(1))
        entries = env.services.audit.entries(session, EntryFilter(action="analysis.import"))
    assert stored == result["sightings"]  # the refused imports stored nothing
    assert first is not None
    assert first.start >= datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert first.embedding_models == "dlib+reid"  # the default embedder's models, both
    assert len(first.embedding or b"") == (128 + 256) * 4 * first.descriptors
    assert 1 <= first.descriptors <= 5
    assert [e.outcome for e in reversed(entries)] == ["allowed", "denied", "denied"]
    env.services.close()
