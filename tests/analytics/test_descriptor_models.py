"""Descriptors name their models: footage analysed with dlib alone is not searched under
the fused default (the search says so), and re-analysed it is found again, in the same
sightings' spans."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Env
from tests.investigations.world import approved_case, world
from tests.publishing.footage import HAMILTON, record_clip
from vigil.analytics.analyzer import VideoAnalyzer
from vigil.auth.roles import Role
from vigil.config import FacesConfig
from vigil.faces.build import build_face_engine
from vigil.store.models import SightingRow

PHOTO = Path("face_recognition_examples") / "lin-manuel-miranda.png"


def _sightings(env: Env, camera: int) -> list[tuple[datetime, datetime, str]]:
    with env.services.db.read() as session:
        rows = session.execute(
            select(SightingRow.start, SightingRow.end, SightingRow.embedding_models)
            .where(SightingRow.camera_id == camera)
            .order_by(SightingRow.start, SightingRow.end)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_dlib_footage_reanalysed_is_searchable_with_the_same_spans(
    env: Env, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert FacesConfig().embedder == "fused"  # the default this test is about
    w = world(env)
    gate = w.cameras["gate"]
    start = time.time() - 60
    assert record_clip(env, gate, datasets / HAMILTON, start)
    span = (datetime.fromtimestamp(start - 5, UTC), datetime.now(UTC))
    ada = env.add_user("ada", Role.ADMIN)
    analytics = env.services.analytics
    fused = analytics.analyzer
    dlib = build_face_engine(FacesConfig(embedder="dlib"))
    monkeypatch.setattr(analytics, "analyzer", VideoAnalyzer(dlib, fused.settings))
    analytics.reanalyse(ada, "gate", *span)
    before = _sightings(env, gate)
    assert before
    assert {models for _, _, models in before} == {"dlib"}

    photo = [(PHOTO.name, (datasets / PHOTO).read_bytes())]
    case = approved_case(w, ["gate"], start=span[0], end=span[1])
    unsearched = env.services.search.search(w.ivy, case, photo)
    assert unsearched.embedder == "fused"
    assert unsearched.results == []
    assert unsearched.undescribed == len(before)
    assert "vigil analyze" in unsearched.to_dict()["warning"]

    monkeypatch.setattr(analytics, "analyzer", fused)
    analytics.reanalyse(ada, "gate", *span)
    after = _sightings(env, gate)
    assert [(a, b) for a, b, _ in after] == [(a, b) for a, b, _ in before]
    assert {models for _, _, models in after} == {"dlib+reid"}
    found = env.services.search.search(w.ivy, case, photo)
    assert found.undescribed == 0
    assert "warning" not in found.to_dict()
    matches = [c for c in found.results if c.match]
    assert matches, "Lin-Manuel Miranda is found in the re-described footage"
    assert all(c.estimated_fmr is not None and c.estimated_fmr <= 1e-3 for c in matches)
