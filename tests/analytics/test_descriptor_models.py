"""Descriptors name their models: footage analysed with dlib alone (as before there was a
second descriptor) is not searched by the fused default (the search says so), and
re-analysed it is found again, in the same sightings' spans (tracks follow dlib's
descriptor whenever it is computed)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Env
from tests.investigations.world import approved_case, world
from tests.publishing.footage import HAMILTON, record_clip
from vigil.analytics.matching import OperatingPoint
from vigil.app import Services, build_services
from vigil.audit.signing import SigningKey
from vigil.auth.roles import Role
from vigil.config import FacesConfig
from vigil.faces.calibration import load_calibration
from vigil.store.models import SightingRow

PHOTO = Path("face_recognition_examples") / "lin-manuel-miranda.png"


@pytest.fixture
def dlib(env: Env) -> Iterator[Services]:
    """The same data directory's services with dlib's embedder configured (as before)."""
    config = env.services.config
    faces = config.faces.model_copy(update={"embedder": "dlib"})
    services = build_services(
        env.data_dir,
        config.model_copy(update={"faces": faces}),
        env.services.db,
        SigningKey.load(env.data_dir),
    )
    yield services
    services.close()


def _sightings(env: Env, camera: int) -> list[tuple[datetime, datetime, str]]:
    with env.services.db.read() as session:
        rows = session.execute(
            select(SightingRow.start, SightingRow.end, SightingRow.embedding_models)
            .where(SightingRow.camera_id == camera)
            .order_by(SightingRow.start, SightingRow.end)
        )
        return [(start, end, models) for start, end, models in rows]


def test_dlib_footage_reanalysed_is_searchable_with_the_same_spans(
    env: Env, dlib: Services, datasets: Path
) -> None:
    assert env.services.config.faces.embedder == "fused"  # the default
    fused = env.services
    w = world(env)
    gate = w.cameras["gate"]
    start = time.time() - 60
    assert record_clip(env, gate, datasets / HAMILTON, start)
    span = (datetime.fromtimestamp(start - 5, UTC), datetime.now(UTC))
    ada = env.add_user("ada", Role.ADMIN)
    dlib.analytics.reanalyse(ada, "gate", *span)
    before = _sightings(env, gate)
    assert before
    assert {models for _, _, models in before} == {"dlib"}

    photo = [(PHOTO.name, (datasets / PHOTO).read_bytes())]
    case = approved_case(w, ["gate"], start=span[0], end=span[1])
    unsearched = fused.search.search(w.ivy, case, photo)
    assert unsearched.embedder == "fused"
    assert unsearched.results == []
    assert unsearched.undescribed == len(before)
    assert "vigil analyze" in unsearched.to_dict()["warning"]

    fused.analytics.reanalyse(ada, "gate", *span)
    after = _sightings(env, gate)
    assert [(a, b) for a, b, _ in after] == [(a, b) for a, b, _ in before]
    assert {models for _, _, models in after} == {"dlib+reid"}
    found = fused.search.search(w.ivy, case, photo)
    assert found.undescribed == 0
    assert "warning" not in found.to_dict()
    assert any(c.match for c in found.results), "Lin-Manuel Miranda is found again"
    # The dlib embedder compares the dlib part of the same descriptors, like with like.
    assert dlib.search.search(w.ivy, case, photo).undescribed == 0


@pytest.mark.parametrize(
    ("configured", "expected"),
    [(None, "match"), (0.9, "match"), (0.5, 0.5)],  # a configured point only ever stricter
)
def test_the_match_point_is_the_calibration_s_unless_configured_stricter(
    configured: float | None, expected: float | str
) -> None:
    calibration = load_calibration(None, "fused")
    faces = FacesConfig(embedder="fused", threshold_fmr_1e4=configured)
    point = OperatingPoint.of(faces, calibration)
    wanted = calibration.match_threshold if expected == "match" else expected
    assert point.threshold == wanted
    assert point.matches(wanted, "fused")
    assert not point.matches(wanted + 0.01, "fused")
    assert not point.matches(0.1, "reid")  # another space's distance, no point of its own given
