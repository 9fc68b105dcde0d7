"""Day-and-camera FAISS partitions over stored sightings: nearest first, in step with the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import sightings_at, store_sightings_at
from vigil.analytics.sightings import store_sightings
from vigil.search import vectors as vectors_module
from vigil.search.vectors import FaissDayIndex, days_between

DAY = date(2026, 11, 20)


def test_search_is_exact_and_sees_rows_stored_later(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "READ_BATCH", 64)  # the rows in several reads
    camera = add_camera(env, "gate")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 128)).astype(np.float32) * 0.1
    noon = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=12)
    ids = store_sightings_at(env, camera, vectors[:200], noon - timedelta(hours=5))
    index = FaissDayIndex(env.services.db)
    probe = vectors[17] + 0.001

    hits = index.search(probe, [DAY], [camera], 5)
    exact = np.argsort(np.linalg.norm(vectors[:200] - probe, axis=1))[:5]
    assert [h.sighting_id for h in hits] == [ids[i] for i in exact]
    assert hits[0].distance == pytest.approx(0.001 * 128**0.5, abs=1e-3)  # half precision

    later = store_sightings_at(env, camera, vectors[200:], noon)  # stored after the index was built
    probe = vectors[250]
    assert index.search(probe, [DAY], [camera], 1)[0].sighting_id == later[50]


def test_only_the_days_asked_for_are_searched(env: Env) -> None:
    camera = add_camera(env, "gate")
    vector = np.ones((1, 128), dtype=np.float32) * 0.05
    day_one = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=1)
    (first,) = store_sightings_at(env, camera, vector, day_one)
    (second,) = store_sightings_at(env, camera, vector, day_one + timedelta(days=1))
    index = FaissDayIndex(env.services.db)
    assert [h.sighting_id for h in index.search(vector[0], [DAY], [camera], 5)] == [first]
    both = index.search(vector[0], days_between(day_one, day_one + timedelta(days=1)), [camera], 5)
    assert sorted(h.sighting_id for h in both) == [first, second]
    assert index.search(vector[0], [DAY - timedelta(days=3)], [camera], 5) == []
    midnight = datetime.combine(DAY, datetime.min.time(), UTC)
    assert days_between(midnight, midnight + timedelta(days=2)) == [DAY, DAY + timedelta(days=1)]
    assert days_between(midnight, midnight + timedelta(days=2, microseconds=1))[-1] == DAY + (
        timedelta(days=2)
    )
    index.forget(DAY)
    assert [h.sighting_id for h in index.search(vector[0], [DAY], [camera], 5)] == [first]


def test_only_the_cameras_asked_for_are_searched(env: Env) -> None:
    gate, hall = add_camera(env, "gate"), add_camera(env, "hall")
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 128)).astype(np.float32) * 0.1
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=2)
    at_gate = store_sightings_at(env, gate, vectors[:25], at)
    at_hall = store_sightings_at(env, hall, vectors[25:], at)
    index = FaissDayIndex(env.services.db)
    hits = index.search(vectors[3], [DAY], [hall], 10)  # its own sighting is at the gate
    assert len(hits) == 10
    assert {h.sighting_id for h in hits} <= set(at_hall)
    assert index.search(vectors[3], [DAY], [gate], 1)[0].sighting_id == at_gate[3]
    assert index.search(vectors[3], [DAY], [], 10) == []
    assert len(index.partitions) == 50


def test_a_camera_day_is_read_when_first_searched_and_each_row_once(env: Env) -> None:
    gate, hall = add_camera(env, "gate"), add_camera(env, "hall")
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(40, 128)).astype(np.float32) * 0.1
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=3)
    at_gate = store_sightings_at(env, gate, vectors[:10], at)
    at_hall = store_sightings_at(env, hall, vectors[10:20], at)
    index = FaissDayIndex(env.services.db)
    index.search(vectors[0], [DAY], [gate], 1)
    assert len(index.partitions) == 10  # the hall's day is not read for the gate's search
    later_gate = store_sightings_at(env, gate, vectors[20:30], at)
    later_hall = store_sightings_at(env, hall, vectors[30:], at)
    hits = index.search(vectors[0], [DAY], [gate, hall], 40)
    assert len(index.partitions) == 40  # the gate's first rows were not read again
    assert sorted(h.sighting_id for h in hits) == sorted(
        at_gate + at_hall + later_gate + later_hall
    )


def test_rows_stored_since_on_days_read_before_are_read_once_and_only_for_those_days(
    env: Env,
) -> None:
    """Days read before are brought up to date in one read of the rows stored since; a day
    between them that no search asked for is not read, and a day never read is read whole."""
    gate = add_camera(env, "gate")
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(40, 128)).astype(np.float32) * 0.1
    first, middle, third, fourth = (
        datetime.combine(DAY + timedelta(days=n), datetime.min.time(), UTC) + timedelta(hours=9)
        for n in range(4)
    )
    days = [first.date(), third.date()]
    early = [
        store_sightings_at(env, gate, vectors[n : n + 5], at) for n, at in ((0, first), (5, third))
    ]
    index = FaissDayIndex(env.services.db)
    assert len(index.search(vectors[0], days, [gate], 40)) == 10
    late = [
        store_sightings_at(env, gate, vectors[n : n + 5], at)
        for n, at in ((10, first), (15, middle), (20, third), (25, fourth))
    ]
    hits = index.search(vectors[0], [*days, fourth.date()], [gate], 40)
    assert sorted(h.sighting_id for h in hits) == sorted(
        [*early[0], *early[1], *late[0], *late[2], *late[3]]
    )
    assert len(index.partitions) == 25  # each row once; the middle day's not at all
    assert index.search(vectors[0], [*days, fourth.date()], [gate], 40) == hits  # nothing new
    assert len(index.partitions) == 25


def test_rows_of_several_descriptors_and_other_models_are_read_at_once(env: Env) -> None:
    gate, hall = add_camera(env, "gate"), add_camera(env, "hall")
    rng = np.random.default_rng(11)
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=4)
    tracks = rng.normal(size=(6, 3, 128)).astype(np.float32) * 0.1  # three faces a sighting
    singles = rng.normal(size=(4, 128)).astype(np.float32) * 0.1
    at_gate = store_sightings_at(env, gate, tracks, at)
    at_hall = store_sightings_at(env, hall, singles, at)
    other_model = store_sightings_at(env, gate, rng.normal(size=(5, 256)).astype(np.float32), at)
    index = FaissDayIndex(env.services.db)  # dlib's space: the reid-only rows are not its own

    for n, track in enumerate(tracks):
        for face in track:  # each face of a track finds its sighting
            assert index.search(face, [DAY], [gate, hall], 1)[0].sighting_id == at_gate[n]
    assert index.search(singles[2], [DAY], [gate, hall], 1)[0].sighting_id == at_hall[2]
    assert len(index.partitions) == 6 * 3 + 4
    everyone = index.search(singles[0], [DAY], [gate, hall], 50)
    assert sorted(h.sighting_id for h in everyone) == sorted(at_gate + at_hall)
    assert not set(other_model) & {h.sighting_id for h in everyone}


def test_camera_days_beyond_the_budget_are_let_go_and_read_again_when_searched(env: Env) -> None:
    """The least recently searched camera-days go first; a search's own scope is read whole
    even where it alone is over the budget, and a day let go is read again, with the rows
    stored since."""
    gate, hall, yard = (add_camera(env, name) for name in ("gate", "hall", "yard"))
    rng = np.random.default_rng(13)
    vectors = rng.normal(size=(70, 128)).astype(np.float32) * 0.1
    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=6)
    stored = {
        camera: store_sightings_at(env, camera, vectors[n * 20 : n * 20 + 20], at)
        for n, camera in enumerate((gate, hall, yard))
    }
    row_bytes = 2 * 128 + 8
    index = FaissDayIndex(env.services.db, budget=45 * row_bytes)  # two camera-days fit

    index.search(vectors[0], [DAY], [gate], 1)
    index.search(vectors[20], [DAY], [hall], 1)
    assert len(index.partitions) == 40
    index.search(vectors[0], [DAY], [gate], 1)  # the gate is now the more recent
    index.search(vectors[40], [DAY], [yard], 1)
    assert len(index.partitions) == 40  # the hall went
    assert index.partitions.nbytes <= 45 * row_bytes

    later = store_sightings_at(env, hall, vectors[60:], at + timedelta(hours=1))
    hits = index.search(vectors[25], [DAY], [hall], 30)  # read again, whole
    assert sorted(h.sighting_id for h in hits) == sorted(stored[hall] + later)
    assert hits[0].sighting_id == stored[hall][5]
    assert len(index.partitions) == 30  # the hall's alone: with either other day it is over

    everyone = index.search(vectors[0], [DAY], [gate, hall, yard], 100)  # over the budget
    assert sorted(h.sighting_id for h in everyone) == sorted(
        stored[gate] + stored[hall] + stored[yard] + later
    )
    assert len(index.partitions) == 70  # its own scope is kept whole while it is searched


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_sighting_committed_after_a_later_one_is_found_once_committed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers store results at once: the one that took its id first commits last (its
    matching still ran). A search between the two commits must not count that id as read."""
    monkeypatch.setattr(vectors_module, "SETTLE_WAIT_S", 0.05)
    camera = add_camera(env, "gate")
    vectors = np.random.default_rng(11).normal(size=(2, 128)).astype(np.float32) * 0.1
    noon = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=12)
    db = env.services.db
    index = FaissDayIndex(db)
    with db.write() as slow:
        (early,) = store_sightings(slow, camera, sightings_at(vectors[:1], noon), source="test")
        (late,) = store_sightings_at(env, camera, vectors[1:], noon + timedelta(hours=1))
        assert late > early
        assert [h.sighting_id for h in index.search(vectors[0], [DAY], [camera], 5)] == [late]
        assert index.in_flight.settled < late  # the early id was still in flight
    hits = index.search(vectors[0], [DAY], [camera], 5)
    assert [h.sighting_id for h in hits] == [early, late]
    assert index.in_flight.settled == late
    assert index.search(vectors[1], [DAY], [camera], 5)[0].sighting_id == late
    assert len(index.partitions) == 2  # each row indexed once
