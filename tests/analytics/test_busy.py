"""Analysis close to the machine's limit: frames searched at the scale a camera's faces need,
people counted in the same decode, and back-pressure that lowers the rate, never loses."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from sqlalchemy import select

from tests.cli_runner import vigil
from tests.conftest import Env
from tests.recorded import add_camera, record
from tests.streams import people_folder, scene_video
from vigil.analytics.analyzer import AnalysisSettings, VideoAnalyzer
from vigil.analytics.jobs import SegmentJob, analyse_job, people_counter, sampled_rate
from vigil.analytics.pipeline import learned_face_px
from vigil.config import CountingConfig, FacesConfig
from vigil.faces.build import build_face_engine
from vigil.faces.engine import FaceEngine
from vigil.monitoring import VigilCollector
from vigil.recording.playback import decoded_frames, recorded_pictures
from vigil.sim.scenario import Renderer, Scenario, load_people
from vigil.store.models import Camera, SegmentRow

STARTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HAMILTON = Path("video/face_recognition/short_hamilton_clip.mp4")
ONE_BY_ONE = "one-by-one-person-detection.mp4"


@cache
def engine() -> FaceEngine:
    return build_face_engine(FacesConfig())


@pytest.fixture(scope="module")
def walkers(tmp_path_factory: pytest.TempPathFactory, portrait_path: Path) -> Path:
    root = tmp_path_factory.mktemp("walkers")
    people = load_people(people_folder(root, portrait_path), None, random.Random(0))
    scenario = Scenario(["cam1"], people, STARTED, seed=1, width=1280, height=720)
    return scene_video(root / "walkers.mp4", Renderer(scenario, "cam1"), 12)


def _spans(sightings: list) -> list[tuple[float, float]]:  # type: ignore[type-arg]
    return [(s.start, s.end) for s in sightings]


def test_a_camera_whose_faces_are_large_is_searched_in_fewer_pixels_and_misses_no_walker(
    walkers: Path,
) -> None:
    analyzer = VideoAnalyzer(engine())
    full, seen = analyzer.analyse(walkers, 0.0)
    assert seen.smallest_face is not None
    assert seen.smallest_face >= 80
    fast, stats = analyzer.analyse(walkers, 0.0, face_px=float(seen.smallest_face))
    # Faces of 80 px and more are searched for from 40 px: half the width, a quarter of the
    # pixels (YuNet finds faces from 20 px), a probe at full size now and then.
    assert stats.search_scale <= 0.5
    assert stats.smallest_face is not None
    assert stats.smallest_face >= seen.smallest_face * 0.9
    walked = [s for s in full if s.faces >= 3]  # each walker's track, not its edge fragments
    assert len(walked) >= 2
    for sighting in walked:
        same = [
            f for f in fast
            if f.start < sighting.end and f.end > sighting.start
            and engine().compare(f.descriptors[0], sighting.descriptors[0]).same
        ]  # fmt: skip
        assert same, f"the walker of {sighting.start:.1f}-{sighting.end:.1f} s was missed"
    print(f"\nfull: {_spans(full)}\nfast: {_spans(fast)}; {stats.stages}")


def test_a_face_smaller_than_the_camera_showed_is_found_by_a_probe(datasets: Path) -> None:
    """The Hamilton clip's smallest faces are 19 px: learned wrongly as 400 px, the first
    probe finds them and every frame is searched at full size from then on."""
    analyzer = VideoAnalyzer(engine())
    clip = datasets / HAMILTON
    full, seen = analyzer.analyse(clip, 0.0)
    wrong, stats = analyzer.analyse(clip, 0.0, face_px=400.0)
    assert seen.smallest_face is not None
    assert seen.smallest_face < 30
    assert stats.search_scale == seen.search_scale == 1.0
    assert [(s.start, s.end, s.box) for s in wrong] == [(s.start, s.end, s.box) for s in full]


def test_a_camera_learns_a_smaller_face_at_once_and_a_larger_one_slowly() -> None:
    assert learned_face_px(None, 120) == 120.0
    assert learned_face_px(120.0, 60) == 60.0
    assert learned_face_px(60.0, 200) == pytest.approx(66.0)  # 10% a segment, at most
    assert learned_face_px(66.0, 70) == 70.0


def _job(end: float, *, redo: bool = False, rate: float | None = None) -> SegmentJob:
    return SegmentJob(1, 1, Path("x.mp4"), end - 4.0, end, rate, redo)


def test_back_pressure_lowers_the_rate_with_the_lag_never_below_its_floor_nor_for_a_rerun() -> None:
    settings = AnalysisSettings(
        sample_fps=5.0, busy_lag_s=10.0, lag_bound_s=16.0, min_sample_fps=2.0
    )
    now = 1_000_000.0
    assert sampled_rate(settings, _job(now - 5), now) == 5.0  # on time
    assert sampled_rate(settings, _job(now - 10), now) == 5.0
    assert sampled_rate(settings, _job(now - 12), now) == 4.0  # a third of the way to the bound
    assert sampled_rate(settings, _job(now - 16), now) == 2.0  # the floor, at the bound
    assert sampled_rate(settings, _job(now - 600), now) == 2.0  # never below it
    assert sampled_rate(settings, _job(now - 600, rate=1.0), now) == 1.0  # nor above its own
    assert sampled_rate(settings, _job(now - 13, rate=10.0), now) == 6.0  # the camera's own
    assert sampled_rate(settings, _job(now - 600, redo=True), now) == 5.0  # asked for again
    with pytest.raises(ValueError, match="lag_bound_s"):
        AnalysisSettings(busy_lag_s=10.0, lag_bound_s=10.0)


def test_a_late_segment_is_analysed_at_a_lowered_rate_kept_and_reported(
    env: Env, walkers: Path
) -> None:
    camera = add_camera(env, "gate")
    (segment,) = record(env, camera, time.time() - 60, 4, segment_s=4.0)
    pipeline = env.services.analytics.pipeline
    job = pipeline.job(segment, walkers)  # the walkers' footage as the segment's content
    settings = AnalysisSettings(busy_lag_s=10.0, lag_bound_s=20.0, min_sample_fps=2.0)
    analyzer = VideoAnalyzer(engine(), settings)
    counter = people_counter(CountingConfig(every_s=2.0), 1)
    outcome = analyse_job(analyzer, counter, job, now=job.end + 25.0)
    assert outcome.lowered_fps == 2.0  # past the bound: the floor
    # People counted less often by the same factor: every 5 s instead of 2 s.
    assert [c.at - job.start for c in outcome.counts] == pytest.approx([0.0, 5.0, 10.0])
    assert outcome.stats.frames_sampled == pytest.approx(12 * 2.0, abs=2)
    assert outcome.sightings  # fewer frames, the walkers still seen
    pipeline.store_result(job, outcome)
    with env.services.db.read() as session:
        row = session.get(SegmentRow, segment.id)
        assert row is not None
        assert (row.lowered_fps, row.analysed_at is not None) == (2.0, True)
        learned = session.scalar(select(Camera.face_px).where(Camera.id == camera))
    assert learned == outcome.stats.smallest_face  # the next segment is searched for such
    assert pipeline.job(segment).face_px == learned

    status = vigil(env.data_dir, "status", "--json")
    assert status.code == 0, status.stderr
    analysis = status.json()["analysis"]
    assert (analysis["lowered_segments"], analysis["lowest_fps"]) == (1, 2.0)
    assert "1 segments of the last 10 min analysed at a lowered rate" in vigil(
        env.data_dir, "status"
    ).stdout.replace("\n", " ")
    metrics = {m.name: m.samples[0].value for m in VigilCollector(
        env.services.db, env.services.segments).collect() if m.samples}  # fmt: skip
    assert metrics["vigil_analysis_lowered_segments"] == 1
    assert metrics["vigil_analysis_lowest_fps"] == 2.0


def test_people_are_counted_in_the_analysis_pass_as_a_pass_of_their_own_counts_them(
    datasets: Path, tmp_path: Path
) -> None:
    """Intel's one-by-one clip: people walk in and out. One decode for faces and counts
    gives the counts the counter's own decode gives."""
    video = _first_seconds(datasets / "video" / "intel-sample-videos" / ONE_BY_ONE, tmp_path, 20)
    counter = people_counter(CountingConfig(every_s=2.0), 1)
    assert counter is not None
    alone = counter.count(video, 0.0)
    job = SegmentJob(1, 1, video, 0.0, 20.0)
    shared = analyse_job(VideoAnalyzer(engine()), counter, job, now=20.0).counts
    assert [c.at for c in shared] == pytest.approx([c.at for c in alone], abs=0.01)
    assert [c.people for c in shared] == [c.people for c in alone]
    assert len(alone) == 10
    assert any(c.people for c in alone)  # someone walks through


def test_a_count_where_nothing_moved_since_the_last_one_is_kept(datasets: Path) -> None:
    (picture,) = recorded_pictures(datasets / "video" / "pets2009-vtest" / "vtest.avi", 0.0, 0.01)
    counter = people_counter(CountingConfig(every_s=2.0), 1)
    assert counter is not None
    sampler = counter.sampler(100.0, motion_threshold=1.5)
    thumb = np.asarray(Image.fromarray(picture.rgb).convert("L").resize((64, 36)), dtype=np.float32)
    converted: list[float] = []

    def rgb(t: float) -> NDArray[np.uint8]:
        converted.append(t)
        return picture.rgb

    for i in range(30):  # 6 s at 5 fps of one still picture, then it changes
        t = i * 0.2
        sampler.offer(t, thumb if t < 5.0 else thumb + 40.0, lambda t=t: rgb(t))
    assert [c.at for c in sampler.counts] == pytest.approx([100.0, 102.0, 104.0])
    assert converted == pytest.approx([0.0])  # counted once; then kept
    assert sampler.reused == 2
    assert len({c.people for c in sampler.counts}) == 1
    assert sampler.counts[0].people >= 3  # PETS's first frame: three walkers
    sampler.offer(6.0, thumb + 40.0, lambda: rgb(6.0))
    assert converted == pytest.approx([0.0, 6.0])  # it moved: counted again


def _first_seconds(source: Path, folder: Path, seconds: float) -> Path:
    """The video's first seconds, stream-copied into an MP4."""
    out = folder / f"{source.stem}-{seconds:.0f}s.mp4"
    with av.open(str(source)) as reading, av.open(str(out), "w") as writing:
        stream = reading.streams.video[0]
        copy = writing.add_stream_from_template(stream)
        for packet in reading.demux(stream):
            if packet.pts is None:
                continue
            if packet.pts * packet.time_base >= seconds:
                break
            packet.stream = copy
            writing.mux(packet)
    return out


def test_a_file_with_b_frames_is_decoded_without_them_and_sampled_as_often(
    datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ASL clip (30 fps, B-frames) sampled at 5 fps: the non-reference half of its frames
    is never decoded, and the same frames are sampled and analysed."""
    clip = datasets / "video" / "intel-sample-videos" / "asl_gestures" / "book.mkv"
    analyzer = VideoAnalyzer(engine())
    fast, skipped = analyzer.analyse(clip, 0.0)
    monkeypatch.setattr(
        "vigil.analytics.analyzer.decoded_frames",
        lambda path, threads, _rate: decoded_frames(path, threads),
    )
    full, every = analyzer.analyse(clip, 0.0)
    assert every.frames_decoded == 109
    assert skipped.frames_decoded <= every.frames_decoded * 0.6
    assert abs(skipped.frames_sampled - every.frames_sampled) <= 1
    assert len(fast) == len(full) >= 1
    assert [round(s.start, 1) for s in fast] == pytest.approx(
        [round(s.start, 1) for s in full], abs=0.15
    )
