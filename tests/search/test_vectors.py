"""Per-day FAISS indexes over stored sightings: exact neighbours, in step with the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import store_sightings_at
from vigil.search.vectors import FaissDayIndex, days_between

DAY = date(2026, 11, 20)
EVERY = np.arange(1, 10_000, dtype=np.int64)  # sighting ids any test here stores


def test_search_is_exact_and_sees_rows_stored_later(env: Env) -> None:
    camera = add_camera(env, "gate")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 128)).astype(np.float32) * 0.1
    noon = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=12)
    ids = store_sightings_at(env, camera, vectors[:200], noon - timedelta(hours=5))
    index = FaissDayIndex(env.services.db)
    probe = vectors[17] + 0.001

    hits = index.search(probe, [DAY], 5, EVERY)
    exact = np.argsort(np.linalg.norm(vectors[:200] - probe, axis=1))[:5]
    assert [h.sighting_id for h in hits] == [ids[i] for i in exact]
    assert hits[0].distance == pytest.approx(0.001 * 128**0.5, rel=1e-3)

    later = store_sightings_at(env, camera, vectors[200:], noon)  # stored after the index was built
    probe = vectors[250]
    assert index.search(probe, [DAY], 1, EVERY)[0].sighting_id == later[50]


def test_only_the_days_asked_for_are_searched(env: Env) -> None:
    camera = add_camera(env, "gate")
    vector = np.ones((1, 128), dtype=np.float32) * 0.05
    day_one = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=1)
    (first,) = store_sightings_at(env, camera, vector, day_one)
    (second,) = store_sightings_at(env, camera, vector, day_one + timedelta(days=1))
    index = FaissDayIndex(env.services.db)
    assert [h.sighting_id for h in index.search(vector[0], [DAY], 5, EVERY)] == [first]
    both = index.search(vector[0], days_between(day_one, day_one + timedelta(days=1)), 5, EVERY)
    assert sorted(h.sighting_id for h in both) == [first, second]
    assert index.search(vector[0], [DAY - timedelta(days=3)], 5, EVERY) == []
    index.forget(DAY)
    assert [h.sighting_id for h in index.search(vector[0], [DAY], 5, EVERY)] == [first]


def test_only_allowed_sightings_are_ranked(env: Env) -> None:
    camera = add_camera(env, "gate")
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 128)).astype(np.float32) * 0.1
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=2)
    ids = store_sightings_at(env, camera, vectors, at)
    index = FaissDayIndex(env.services.db)
    allowed = np.array(ids[25:], dtype=np.int64)
    hits = index.search(vectors[3], [DAY], 10, allowed)  # its own vector is not allowed
    assert len(hits) == 10
    assert {h.sighting_id for h in hits} <= set(ids[25:])
    assert index.search(vectors[3], [DAY], 10, np.array([], dtype=np.int64)) == []
