"""Segment files and their index: atomic writes, checksums, recovery after a crash."""

from __future__ import annotations

import hashlib
import shutil
import time
from datetime import UTC, datetime, timedelta

import av
import pytest

from tests.conftest import Env
from tests.recorded import add_camera, clip, record
from vigil.config import RecordingConfig
from vigil.errors import DiskFull, NotFound
from vigil.recording.media import SegmentName
from vigil.recording.recorder import Recorder
from vigil.recording.segments import SegmentWriter


def _recorder(env: Env) -> Recorder:
    s = env.services
    return Recorder(s.access, s.cameras, s.segments, s.media, s.live, RecordingConfig())


def test_segments_are_cut_at_the_target_length_and_indexed_with_checksums(env: Env) -> None:
    camera = add_camera(env, "gate")
    start = time.time() - 60
    segments = record(env, camera, start, 8, segment_s=2.0)
    assert [round(s.seconds, 3) for s in segments] == [2.0, 2.0, 2.0, 2.0]
    assert segments[0].start == datetime.fromtimestamp(int(start * 1000) / 1000, UTC)
    for segment in segments:
        path = env.services.media.path(segment.path)
        data = path.read_bytes()
        assert len(data) == segment.bytes
        assert hashlib.sha256(data).hexdigest() == segment.sha256
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) == 20  # 2 s at 10 fps
    assert env.services.media.leftovers() == []
    coverage = env.services.segments.coverage(camera)
    assert coverage["segments"] == 4
    assert coverage["seconds"] == pytest.approx(8.0, abs=0.01)


def test_an_unfinished_segment_is_a_hidden_part_file_never_indexed(env: Env) -> None:
    camera = add_camera(env, "gate")
    init, fragments = clip()
    writer = SegmentWriter(camera, env.services.media, env.services.segments, 4.0)
    writer.begin(init)
    writer.add(fragments[0], 1000.0, 1001.0)
    (part,) = env.services.media.leftovers()
    assert part.name.startswith(".")
    assert env.services.media.segment_files() == []
    assert env.services.segments.coverage(camera)["segments"] == 0
    writer.abort()
    assert env.services.media.leftovers() == []


def test_recovery_drops_part_files_and_indexes_complete_files_the_index_lacks(env: Env) -> None:
    camera = add_camera(env, "gate")
    (kept,) = record(env, camera, time.time() - 30, 2, segment_s=2.0)
    media = env.services.media
    # A crash after the rename but before the row: a complete file the index lacks.
    later = SegmentName(camera, kept_ms := int(time.time() * 1000) - 10_000, kept_ms + 2000)
    media.path(later.relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(media.path(kept.path), media.path(later.relative))
    # A crash mid-segment: a part file.
    part = media.path(f"{camera}/.{camera}-123.part")
    part.write_bytes(b"\x00\x00\x00\x08free")

    assert _recorder(env).recover() == {"removed_parts": 1, "indexed_segments": 1}
    assert not part.exists()
    assert env.services.segments.paths() == {kept.path, later.relative}
    assert _recorder(env).recover() == {"removed_parts": 0, "indexed_segments": 0}


def test_no_room_on_the_disk_is_refused_before_writing(env: Env) -> None:
    camera = add_camera(env, "gate")
    init, fragments = clip()
    env.services.media.min_free_bytes = 2**62
    writer = SegmentWriter(camera, env.services.media, env.services.segments, 4.0)
    writer.begin(init)
    with pytest.raises(DiskFull, match="free"):
        writer.add(fragments[0], 1000.0, 1001.0)
    assert env.services.media.leftovers() == []


def test_gaps_open_once_and_close(env: Env) -> None:
    camera = add_camera(env, "gate")
    index = env.services.segments
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    index.open_gap(camera, t0, "source lost")
    index.open_gap(camera, t0 + timedelta(seconds=5), "source lost")  # still the same gap
    (gap,) = index.gaps(camera)
    assert gap.end is None
    index.close_gap(camera, t0 + timedelta(seconds=12))
    (gap,) = index.gaps(camera)
    assert (gap.start, gap.end, gap.reason) == (t0, t0 + timedelta(seconds=12), "source lost")


def test_a_stored_segment_path_never_leads_out_of_the_media_root(env: Env) -> None:
    media = env.services.media
    assert media.path("gate/2026/12/04/x.mp4").is_relative_to(media.root)
    for bad in ("../vigil.db", "gate/../../secrets", "/etc/passwd"):
        with pytest.raises(NotFound, match="leads out of"):
            media.path(bad)
