"""The IoU tracker: overlapping boxes continue a track, gaps and distance end it."""

from __future__ import annotations

from vigil.analytics.tracking import IouTracker
from vigil.faces.model import Box


def test_overlapping_boxes_stay_one_track_and_a_gap_ends_it() -> None:
    tracker: IouTracker[str] = IouTracker(min_iou=0.2, max_gap_s=1.0)
    (a,), _ = tracker.update(0.0, [Box(0, 0, 100, 100)])
    (b,), _ = tracker.update(0.2, [Box(10, 0, 110, 100)])
    assert a is b
    (c,), ended = tracker.update(2.0, [Box(12, 0, 112, 100)])
    assert ended == [a]
    assert c is not a
    assert (a.first_t, a.last_t) == (0.0, 0.2)


def test_two_faces_are_two_tracks_matched_by_overlap() -> None:
    tracker: IouTracker[str] = IouTracker()
    left, right = Box(0, 0, 50, 50), Box(200, 0, 250, 50)
    first, _ = tracker.update(0.0, [left, right])
    second, _ = tracker.update(0.2, [Box(205, 0, 255, 50), Box(3, 0, 53, 50)])
    assert [t.id for t in second] == [first[1].id, first[0].id]
    assert tracker.update(0.4, [Box(600, 0, 650, 50)])[0][0].id not in {t.id for t in first}
    assert len(tracker.finish()) == 3
    assert tracker.active == []
