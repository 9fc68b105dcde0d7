"""The segment index's group commit: cameras closing segments at once share transactions,
each gets its own row back, and a bad segment fails only its own camera; a camera never
waits on its rows, and an ingest node may write them once a period."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import Env
from tests.recorded import add_camera, clip
from vigil.recording.index import SegmentIndex
from vigil.recording.records import Segment
from vigil.recording.segments import SegmentWriter
from vigil.store.groupcommit import GroupCommit
from vigil.store.models import SegmentRow


def _segment(camera: int, path: str, n: int) -> Segment:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=4 * n)
    return Segment(0, camera, start, start + timedelta(seconds=4), 100 + n, "0" * 64, path)


def test_cameras_closing_segments_at_once_share_commits_and_get_their_own_rows(
    env: Env,
) -> None:
    cameras = [add_camera(env, f"c{n}") for n in range(8)]
    index = SegmentIndex(env.services.db, "a")

    def record(camera: int) -> list[Segment]:
        return [
            index.add_later(_segment(camera, f"{camera}/{n}.mp4", n)).result() for n in range(25)
        ]

    with ThreadPoolExecutor(8) as pool:
        added = [s for chunk in pool.map(record, cameras) for s in chunk]
    index.close()
    assert index.commits.items == 200
    assert index.commits.commits < 200  # some transactions carried several cameras' segments
    with env.services.db.read() as session:
        rows = {r.id: r for r in session.scalars(select(SegmentRow))}
    assert len(rows) == 200 == len({s.id for s in added})
    for segment in added:  # each caller got its own row's id, not a neighbour's
        row = rows[segment.id]
        assert (row.path, row.camera_id, row.bytes, row.node) == (
            segment.path,
            segment.camera_id,
            segment.bytes,
            "a",
        )
    assert index.unanalysed(1)[0].start == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_segment_the_index_refuses_fails_its_own_camera_only(env: Env) -> None:
    camera = add_camera(env, "gate")
    index = SegmentIndex(env.services.db)
    index.add(_segment(camera, "1/taken.mp4", 0))
    # A long wait for callers, so that the three below share one transaction.
    index.commits = GroupCommit("segment-index", index._insert, linger_s=0.5)
    start = threading.Barrier(3)

    def add(path: str, n: int) -> Segment:
        start.wait()
        return index.add_later(_segment(camera, path, n)).result()

    with ThreadPoolExecutor(3) as pool:
        good = pool.submit(add, "1/a.mp4", 1)
        taken = pool.submit(add, "1/taken.mp4", 2)
        other = pool.submit(add, "1/b.mp4", 3)
        assert {good.result().path, other.result().path} == {"1/a.mp4", "1/b.mp4"}
        with pytest.raises(IntegrityError):
            taken.result()
    index.close()
    assert index.commits.failed == 2  # the shared transaction, then the bad segment alone
    assert index.commits.items == 2
    assert index.paths() == {"1/taken.mp4", "1/a.mp4", "1/b.mp4"}


def test_a_segment_indexed_again_is_its_row_not_a_refusal(env: Env) -> None:
    """A commit that went through but whose answer was lost: the recorder tries the segment
    again, and must not be refused for ever (its later segments wait behind it)."""
    camera = add_camera(env, "gate")
    index = SegmentIndex(env.services.db, "a")
    first = index.add_later(_segment(camera, "1/again.mp4", 0)).result()
    again = index.add_later(_segment(camera, "1/again.mp4", 0)).result()
    assert again == first
    assert index.commits.failed == 0  # the camera was answered with the row, not an error
    with pytest.raises(IntegrityError):  # another segment under that name is refused
        index.add(replace(_segment(camera, "1/again.mp4", 0), sha256="1" * 64))
    with pytest.raises(IntegrityError):  # and so is the same one from another node
        SegmentIndex(env.services.db, "b").add(_segment(camera, "1/again.mp4", 0))
    index.close()
    assert index.paths() == {"1/again.mp4"}


def test_an_ingest_node_writes_the_rows_of_a_period_in_one_transaction(env: Env) -> None:
    cameras = [add_camera(env, f"c{n}") for n in range(4)]
    index = SegmentIndex(env.services.db, "a", every_s=0.5)
    pending = [
        index.add_later(_segment(camera, f"{camera}/{n}.mp4", n))
        for n in range(5)
        for camera in cameras
    ]
    assert not all(f.done() for f in pending)  # handed over: no camera waited on its row
    added = [f.result(timeout=30) for f in pending]
    index.close()
    assert (index.commits.commits, index.commits.items) == (1, 20)
    assert len({s.id for s in added}) == 20
    assert index.paths() == {s.path for s in added}


def test_a_camera_goes_on_closing_segments_while_the_database_holds_its_rows_back(
    env: Env,
) -> None:
    camera = add_camera(env, "gate")
    indexed: list[Segment] = []
    writer = SegmentWriter(camera, env.services.media, env.services.segments, 2.0, indexed.append)
    init, fragments = clip()
    writer.begin(init)
    with _writes_held(env):  # another session holds the segments table's write lock
        for i in range(6):
            writer.add(fragments[i % len(fragments)], 1000.0 + i, 1001.0 + i)
        assert writer.finish() is None  # every fragment was in a closed segment
        assert writer.unindexed == 3
        assert indexed == []
    assert writer.flush(30.0)
    assert writer.unindexed == 0
    starts = [s.start for s in indexed]
    assert len(starts) == 3
    assert starts == sorted(starts)
    assert {s.path for s in indexed} <= env.services.segments.paths()


@contextmanager
def _writes_held(env: Env) -> Iterator[None]:
    """The segments table's writes held back by another session for a while (SQLite: its
    write lock; PostgreSQL: a lock that lets readers in and makes writers wait)."""
    with env.services.db.write() as session:
        if env.services.db.engine.dialect.name == "sqlite":
            session.execute(text("SELECT 1"))  # a write transaction begins: BEGIN IMMEDIATE
        else:
            session.execute(text("LOCK TABLE segments IN SHARE MODE"))
        yield
        time.sleep(0.5)  # rows sent meanwhile wait on the lock: they are not refused
