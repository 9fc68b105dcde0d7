"""A camera's analysis stream (its sub-stream): recorded beside the main stream for face
analysis alone, never played, gone a while after its analysis; the report says which
stream a face was seen on."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests.conftest import Env
from tests.recorded import make_recorder, wait_for
from tests.streams import h264_file, people_folder, scene_video
from vigil.analytics.analyzer import VideoAnalyzer
from vigil.analytics.jobs import analyse_job
from vigil.analytics.sightings import stream_of
from vigil.audit.log import EntryFilter
from vigil.cameras.registry import CameraSpec
from vigil.config import FacesConfig
from vigil.errors import InvalidInput
from vigil.faces.build import build_face_engine
from vigil.investigations.report import visits_of
from vigil.investigations.results import Candidate
from vigil.recording.media import ANALYSIS, MAIN, SegmentName
from vigil.recording.records import Segment
from vigil.sim.scenario import Renderer, Scenario, load_people
from vigil.store.models import SegmentRow, SightingRow

MAIN_URL = "rtsp://viewer:S3cret-Pw@10.1.2.3:554/Streaming/101"
SUB_URL = "rtsp://10.1.2.3:554/Streaming/102"


def test_an_analysis_stream_is_stored_without_a_login_and_recorded_with_the_cameras(
    env: Env,
) -> None:
    registry = env.services.cameras
    info = registry.add(env.local(), CameraSpec("gate", MAIN_URL, analysis_url=SUB_URL))
    assert info.analysis_url == SUB_URL
    assert "S3cret" not in repr(info.to_dict())
    with env.services.db.read() as session:
        stored = session.execute(text("SELECT analysis_url FROM cameras")).scalar_one()
    assert stored == SUB_URL
    targets = {t.stream: t for t in registry.ingest_targets()}
    assert targets[MAIN].url == MAIN_URL
    assert targets[ANALYSIS].url == "rtsp://viewer:S3cret-Pw@10.1.2.3:554/Streaming/102"
    assert registry.add(env.local(), CameraSpec("yard", MAIN_URL)).analysis_url is None


@pytest.mark.parametrize(
    ("sub", "words"),
    [
        ("rtsp://other:Pw@10.1.2.3/Streaming/102", "login on the main URL only"),
        ("rtsp://10.1.2.3:554/Streaming/101", "is the main stream"),
        ("ftp://10.1.2.3/x", "scheme"),
    ],
)
def test_a_wrong_analysis_stream_is_refused_and_changes_nothing(
    env: Env, sub: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        env.services.cameras.add(env.local(), CameraSpec("gate", MAIN_URL, analysis_url=sub))
    assert env.services.cameras.ingest_targets() == []


def test_analysis_segments_are_named_apart_and_found_again_after_a_crash() -> None:
    name = SegmentName(7, 1_000, 5_000, ANALYSIS)
    assert name.relative.endswith("/7-1000-5000.analysis.mp4")
    assert SegmentName.parse(name.relative) == name
    assert SegmentName.parse(SegmentName(7, 1_000, 5_000).relative) == SegmentName(7, 1_000, 5_000)


def test_the_main_stream_is_recorded_and_the_sub_stream_analysed(env: Env) -> None:
    imports = env.data_dir / "imports"
    main = h264_file(imports / "main.mp4", 12.0)
    sub = h264_file(imports / "sub.mp4", 12.0)
    spec = CameraSpec("door", f"file://{main}", group="city", analysis_url=f"file://{sub}")
    camera = env.services.cameras.add(env.local(), spec).id
    handed: list[Segment] = []
    recorder = make_recorder(env, on_segment=handed.append)
    recorder.start()
    try:
        wait_for(lambda: sum(s.stream == ANALYSIS for s in handed) >= 3, timeout_s=30)
        wait_for(lambda: env.services.segments.coverage(camera)["segments"] >= 3)
        assert recorder.supervisors[camera].target.stream == MAIN
        assert recorder.analysis_streams[camera].state == "online"
    finally:
        recorder.stop()
    index = env.services.segments
    with env.services.db.read() as session:
        rows = list(session.scalars(select(SegmentRow).where(SegmentRow.camera_id == camera)))
    recorded = [r for r in rows if r.stream == MAIN]
    analysed = [r for r in rows if r.stream == ANALYSIS]
    assert len(recorded) >= 3
    assert len(analysed) >= 3
    assert all(r.path.endswith(".analysis.mp4") for r in analysed)
    assert all(env.services.media.path(r.path).is_file() for r in rows)
    # Analysis gets the sub-stream's segments; the recording's are played, not analysed again
    # (but those begun before the sub-stream came on line are).
    assert {s.stream for s in handed} <= {MAIN, ANALYSIS}
    assert {s.path for s in handed if s.stream == ANALYSIS} == {r.path for r in analysed}
    spared = [r for r in recorded if r.path not in {s.path for s in handed}]
    assert spared
    assert all(r.analysed_at is not None for r in spared)
    # Playback, coverage and gaps are the recording's alone.
    span = index.between(camera, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC))
    assert {s.stream for s in span} == {MAIN}
    assert index.coverage(camera)["segments"] == len(recorded)

    # Ten minutes after their analysis, the sub-stream's segments go; the recording stays.
    with env.services.db.write() as session:
        session.execute(
            update(SegmentRow)
            .where(SegmentRow.stream == ANALYSIS)
            .values(analysed_at=datetime.now(UTC) - timedelta(minutes=11))
        )
    result = make_recorder(env).prune()
    assert result.deleted["analysed"].segments == len(analysed)
    assert not any(env.services.media.path(r.path).exists() for r in analysed)
    assert index.coverage(camera)["segments"] == len(recorded)


def test_an_analysis_stream_set_later_is_recorded_and_one_cleared_stops(env: Env) -> None:
    imports = env.data_dir / "imports"
    main = h264_file(imports / "main.mp4", 12.0)
    sub = h264_file(imports / "sub.mp4", 12.0)
    registry = env.services.cameras
    camera = registry.add(env.local(), CameraSpec("quay", f"file://{main}")).id
    recorder = make_recorder(env)
    recorder.start()
    try:
        assert recorder.analysis_streams == {}
        info = registry.set_analysis_url(env.local(), "quay", f"file://{sub}")
        assert info.analysis_url == f"file://{sub}"
        recorder.sync_cameras()  # what its next look at the cameras does
        wait_for(lambda: recorder.analysis_streams[camera].state == "online", timeout_s=30)
        main_supervisor = recorder.supervisors[camera]
        registry.set_analysis_url(env.local(), "quay", None)
        recorder.sync_cameras()
        assert recorder.analysis_streams == {}
        assert recorder.supervisors[camera] is main_supervisor  # the recording never stopped
    finally:
        recorder.stop()
    with env.services.db.read() as session:
        entries = env.services.audit.entries(session, EntryFilter(action="camera.analysis_stream"))
    oldest_first = sorted(entries, key=lambda e: e.seq)
    assert [(e.details["from"], e.details["to"]) for e in oldest_first] == [
        (None, f"file://{sub}"),
        (f"file://{sub}", None),
    ]


def test_a_face_seen_on_the_analysis_stream_is_marked_so_up_to_the_report(
    env: Env, tmp_path: Path, portrait_path: Path
) -> None:
    people = load_people(people_folder(tmp_path, portrait_path), None, random.Random(0))
    scenario = Scenario(["cam1"], people, datetime.now(UTC), seed=1)
    walkers = scene_video(tmp_path / "sub.mp4", Renderer(scenario, "cam1"), 8)
    spec = CameraSpec("door", "rtsp://10.1.2.3/main", group="city", analysis_url=SUB_URL)
    camera = env.services.cameras.add(env.local(), spec).id
    now = time.time()
    segment = env.services.segments.add(
        Segment(0, camera, datetime.fromtimestamp(now - 8, UTC), datetime.fromtimestamp(now, UTC),
                1, "0" * 64, SegmentName(camera, int(now * 1000) - 8000, int(now * 1000),
                                         ANALYSIS).relative, stream=ANALYSIS)
    )  # fmt: skip
    pipeline = env.services.analytics.pipeline
    job = pipeline.job(segment, walkers)
    assert job.stream == ANALYSIS
    analyzer = VideoAnalyzer(build_face_engine(FacesConfig()))
    pipeline.store_result(job, analyse_job(analyzer, None, job, now=job.end))
    with env.services.db.read() as session:
        sources = set(session.scalars(select(SightingRow.source)))
    assert sources == {"segment:analysis"}
    assert stream_of("segment:analysis") == ANALYSIS
    assert stream_of("segment") == stream_of("import:clip.mp4") == MAIN
    moment = datetime.now(UTC)
    seen = [
        Candidate(1, "door", None, None, None, moment, moment, 0.3, 0.9, 1e-5, True, 0, "sue",
                  True, False, stream_of(source))
        for source in sources
    ]  # fmt: skip
    (visit,) = visits_of(seen)
    assert visit.analysis_stream
    assert seen[0].to_dict()["stream"] == ANALYSIS
