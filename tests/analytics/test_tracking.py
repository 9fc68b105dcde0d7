"""The face tracker: a face continues a track only if its box and its descriptor fit."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.analytics.tracking import FaceTracker, split_identities
from vigil.faces.model import Box

RNG = np.random.default_rng(7)
ALICE = RNG.normal(0, 0.09, 128).astype(np.float32)  # |ALICE - BOB| is about 1.4
BOB = RNG.normal(0, 0.09, 128).astype(np.float32)


def near(person: np.ndarray, spread: float = 0.01) -> np.ndarray:
    """A face of that person: their descriptor, slightly off (about spread * 11 away)."""
    return (person + RNG.normal(0, spread, 128)).astype(np.float32)


def test_overlapping_boxes_of_one_person_stay_one_track_and_a_gap_ends_it() -> None:
    tracker: FaceTracker[str] = FaceTracker(min_iou=0.2, max_gap_s=1.0)
    (a,), _ = tracker.update(0.0, [Box(0, 0, 100, 100)], [near(ALICE)])
    (b,), _ = tracker.update(0.2, [Box(10, 0, 110, 100)], [near(ALICE)])
    assert a is b
    (c,), ended = tracker.update(2.0, [Box(12, 0, 112, 100)], [near(ALICE)])
    assert ended == [a]
    assert c is not a
    assert (a.first_t, a.last_t) == (0.0, 0.2)


def test_another_person_where_the_last_one_stood_starts_a_new_track() -> None:
    tracker: FaceTracker[str] = FaceTracker()
    (alice,), _ = tracker.update(0.0, [Box(0, 0, 100, 100)], [near(ALICE)])
    (bob,), _ = tracker.update(0.2, [Box(0, 0, 100, 100)], [near(BOB)])
    assert bob is not alice
    assert [t.id for t in tracker.finish()] == [alice.id, bob.id]


def test_two_people_crossing_keep_their_own_tracks() -> None:
    tracker: FaceTracker[str] = FaceTracker()
    (a, b), _ = tracker.update(0.0, [Box(0, 0, 100, 100), Box(60, 0, 160, 100)], [ALICE, BOB])
    # They now overlap both old boxes; the boxes alone would hand Alice's track to Bob.
    (b2, a2), _ = tracker.update(
        0.2, [Box(10, 0, 110, 100), Box(50, 0, 150, 100)], [near(BOB), near(ALICE)]
    )
    assert (a2, b2) == (a, b)


def test_far_apart_faces_are_separate_tracks() -> None:
    tracker: FaceTracker[str] = FaceTracker()
    first, _ = tracker.update(0.0, [Box(0, 0, 50, 50), Box(200, 0, 250, 50)], [ALICE, BOB])
    (moved,), _ = tracker.update(0.2, [Box(600, 0, 650, 50)], [near(ALICE)])
    assert moved.id not in {t.id for t in first}
    assert len(tracker.finish()) == 3
    assert tracker.active == []


@pytest.mark.parametrize(
    ("people", "runs"),
    [
        ([ALICE] * 10, [(0, 10)]),
        ([ALICE] * 6 + [BOB] * 6, [(0, 6), (6, 12)]),
        ([ALICE] * 4 + [BOB] * 5 + [ALICE] * 4, [(0, 4), (4, 9), (9, 13)]),
        ([ALICE] * 2 + [BOB] * 2, [(0, 4)]),  # too few faces on each side to judge
    ],
)
def test_a_track_that_drifts_to_another_person_is_split(
    people: list[np.ndarray], runs: list[tuple[int, int]]
) -> None:
    descriptors = np.array([near(p, 0.02) for p in people], dtype=np.float32)
    assert split_identities(descriptors) == runs


def test_a_slow_drift_no_single_step_shows_is_split() -> None:
    # Each face is within the link distance of the previous ones; the ends are two people.
    steps = np.linspace(0.0, 1.0, 16)
    drift = np.array([(1 - w) * ALICE + w * BOB for w in steps], dtype=np.float32)
    tracker: FaceTracker[str] = FaceTracker(link_distance=0.5)
    tracks = {
        tracker.update(0.2 * n, [Box(0, 0, 100, 100)], [d])[0][0].id for n, d in enumerate(drift)
    }
    assert len(tracks) == 1
    assert len(split_identities(drift)) >= 2
