"""Video analysis on a simulated scene: every walker becomes one sighting of that person."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.streams import people_folder, scene_video
from vigil.analytics import analyzer
from vigil.analytics.analyzer import AnalysisSettings, VideoAnalyzer
from vigil.config import FacesConfig
from vigil.errors import InvalidInput
from vigil.faces.build import build_face_engine
from vigil.faces.engine import FaceEngine
from vigil.faces.images import load_image_file
from vigil.faces.model import Chip, Detection, FaceModel
from vigil.sim.footage import Span, join_clips
from vigil.sim.scenario import Renderer, Scenario, load_people

STARTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECONDS = 14


@cache
def engine() -> FaceEngine:
    return build_face_engine(FacesConfig())


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, portrait_path: Path) -> tuple[Scenario, Path]:
    root = tmp_path_factory.mktemp("scene")
    people = load_people(people_folder(root, portrait_path), None, random.Random(0))
    scenario = Scenario(["cam1"], people, STARTED, seed=1)
    return scenario, scene_video(root / "scene.mp4", Renderer(scenario, "cam1"), SECONDS)


def test_each_walker_is_one_sighting_of_that_person(
    scene: tuple[Scenario, Path], portrait_path: Path
) -> None:
    scenario, video = scene
    sightings, stats = VideoAnalyzer(engine()).analyse(video, STARTED.timestamp())
    truth = [
        r for r in scenario.truth(SECONDS)["appearances"]
        if datetime.fromisoformat(r["end"]) <= STARTED.replace(second=SECONDS)
    ]  # fmt: skip
    assert len(truth) >= 2
    reference = engine().main_face(load_image_file(portrait_path)).descriptor
    found = 0
    for row in truth:
        start = datetime.fromisoformat(row["start"]).timestamp()
        end = datetime.fromisoformat(row["end"]).timestamp()
        overlapping = [s for s in sightings if s.start < end and s.end > start]
        matches = [
            s for s in overlapping
            if any(engine().compare(v, reference).same for v in s.descriptors)
        ]  # fmt: skip
        found += bool(matches)
    print(f"\n{found}/{len(truth)} appearances found; {len(sightings)} sightings; {stats}")
    assert found == len(truth)
    # One per walker seen (those still in view at the end too), and at most one more: a
    # face half out of the frame as its walker leaves does not continue the walker's track.
    walkers = [
        r for r in scenario.truth(SECONDS)["appearances"]
        if datetime.fromisoformat(r["start"]) < STARTED.replace(second=SECONDS)
    ]  # fmt: skip
    assert len(sightings) <= len(walkers) + 1
    crop = Image.open(io.BytesIO(sightings[0].crop_jpeg))
    assert crop.format == "JPEG"
    assert min(crop.size) >= sightings[0].quality.face_px
    assert stats.frames_sampled == pytest.approx(SECONDS * 5, abs=2)


def test_frames_where_nothing_moves_are_not_analysed(tmp_path: Path) -> None:
    scenario = Scenario(["cam1"], load_people(None, 1, random.Random(0)), STARTED, seed=2)
    renderer = Renderer(scenario, "cam1")
    still = renderer.frame(0.0)
    renderer.frame = lambda _t: still  # type: ignore[method-assign]  # a static scene
    video = scene_video(tmp_path / "still.mp4", renderer, 4)
    sightings, stats = VideoAnalyzer(engine()).analyse(video, STARTED.timestamp())
    assert sightings == []
    assert stats.frames_sampled == 20
    assert stats.frames_still == 19  # all but the first
    _, slower = VideoAnalyzer(engine()).analyse(video, STARTED.timestamp(), sample_fps=2.0)
    assert slower.frames_sampled == 8  # a camera's own rate


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "not a readable video"), (b"not a video at all" * 50, "not a readable video")],
)
def test_files_that_are_not_video_are_refused(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=words):
        VideoAnalyzer(engine(), AnalysisSettings()).analyse(path, 0.0)


def test_a_truncated_video_gives_what_it_holds_or_a_clear_error(
    scene: tuple[Scenario, Path], tmp_path: Path
) -> None:
    _, video = scene
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    try:
        sightings, _ = VideoAnalyzer(engine()).analyse(cut, 0.0)
    except InvalidInput as exc:
        message = exc.message
    else:
        message = "analysed"
        assert all(np.isfinite(s.descriptors).all() for s in sightings)
    assert message == "analysed" or "cut.mp4" in message


ASL = "video/intel-sample-videos/asl_gestures"
FOUR_PEOPLE = ("again", "bird", "book", "eat")  # people A, B, C and D (datasets README)


@pytest.fixture(scope="module")
def four_people(
    datasets: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Span]]:
    """Four people, each standing where the last one stood, one after another."""
    out = tmp_path_factory.mktemp("four") / "four.mp4"
    return out, join_clips([datasets / ASL / f"{name}.mkv" for name in FOUR_PEOPLE], out)


@pytest.mark.parametrize(
    "settings",
    [AnalysisSettings(), AnalysisSettings(cut_threshold=1e9)],
    ids=["cuts and descriptors", "descriptors alone"],
)
def test_people_one_after_another_at_one_spot_are_one_sighting_each(
    four_people: tuple[Path, list[Span]], settings: AnalysisSettings
) -> None:
    video, spans = four_people
    sightings, stats = VideoAnalyzer(engine(), settings).analyse(video, 0.0)
    print(f"\n{[(round(s.start, 2), round(s.end, 2)) for s in sightings]}; {stats}")
    holders = [
        [span.clip.stem for span in spans if s.start < span.end and s.end > span.start]
        for s in sightings
    ]
    assert holders == [[name] for name in FOUR_PEOPLE]
    assert stats.frames_failed == 0
    assert all(1 < len(s.descriptors) <= settings.best_per_track for s in sightings)


@pytest.mark.parametrize(
    ("size", "codec", "pix_fmt"),
    [
        ((708, 532), "libx264", "yuv420p"),  # rows padded: the decoded array is not contiguous
        ((639, 479), "libx264", "yuv444p"),  # odd width and height
        ((639, 479), "ffv1", "gray"),
        ((640, 480), "libx264", "yuv420p10le"),  # 10 bits
    ],
)
def test_frames_of_any_size_and_format_are_analysed(
    datasets: Path, tmp_path: Path, size: tuple[int, int], codec: str, pix_fmt: str
) -> None:
    clip = datasets / ASL / "again.mkv"
    video = tmp_path / "odd.mkv"
    join_clips([clip], video, size=size, codec=codec, pix_fmt=pix_fmt)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height, stream.format.name) == (*size, pix_fmt)
    sightings, stats = VideoAnalyzer(engine()).analyse(video, 0.0)
    original, _ = VideoAnalyzer(engine()).analyse(clip, 0.0)
    assert stats.frames_failed == 0
    assert len(sightings) == 1
    nearest = min(
        engine().compare(a, b).distance
        for a in sightings[0].descriptors
        for b in original[0].descriptors
    )
    assert nearest <= engine().threshold  # the same person is found in it


class _FailsOnThirdFrame:
    """The real model, except that its detector fails once (fault injection)."""

    def __init__(self, model: FaceModel) -> None:
        self.model = model
        self.calls = 0

    def detect(
        self, rgb: np.ndarray, upsample: int, *, scale: float | None = None
    ) -> list[Detection]:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("the detector failed on this frame")
        return self.model.detect(rgb, upsample, scale=scale)

    def __getattr__(self, name: str) -> object:
        return getattr(self.model, name)


def test_a_frame_that_fails_is_counted_and_the_rest_are_analysed(
    scene: tuple[Scenario, Path],
) -> None:
    _, video = scene
    healthy, _ = VideoAnalyzer(engine()).analyse(video, 0.0)
    model = _FailsOnThirdFrame(engine().model)
    faulty = FaceEngine(model, threshold=engine().threshold)  # type: ignore[arg-type]
    sightings, stats = VideoAnalyzer(faulty).analyse(video, 0.0)
    assert stats.frames_failed == 1
    assert model.calls == stats.frames_sampled - stats.frames_still
    assert len(sightings) >= len(healthy) - 1 >= 1


class _CountsEmbeds:
    """The real model, counting its descriptor calls; one of them may fail."""

    def __init__(self, model: FaceModel, fail_call: int | None = None) -> None:
        self.model = model
        self.fail_call = fail_call
        self.batches: list[int] = []  # calls for tracking: every face of a batch of frames
        # calls for a sighting's kept faces, by the other models (the tracking model's
        # vectors of them are known already)
        self.kept: list[int] = []

    def embed(self, chips: list[Chip], models: tuple[str, ...] | None = None) -> np.ndarray:
        if models != ("dlib",):  # the fused engine tracks by dlib's descriptor
            self.kept.append(len(chips))
        else:
            self.batches.append(len(chips))
            if len(self.batches) == self.fail_call:
                raise RuntimeError("the descriptor failed on this batch")
        return self.model.embed(chips, models)

    def __getattr__(self, name: str) -> object:
        return getattr(self.model, name)


def test_faces_are_described_in_batches_across_frames_with_the_same_result(
    scene: tuple[Scenario, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, video = scene
    model = _CountsEmbeds(engine().model)
    # without mirrored chips, every call to the descriptor is a batch of frames' faces
    batched = FaceEngine(model, threshold=engine().threshold, flip=False)  # type: ignore[arg-type]
    sightings, stats = VideoAnalyzer(batched).analyse(video, 0.0)
    print(f"\n{stats.faces} faces, {len(model.batches)} calls: {model.batches}")
    assert sum(model.batches) == stats.faces
    assert max(model.batches) >= analyzer.BATCH_FACES  # many frames' faces in one call
    # Every model describes a sighting's few kept faces, once (no mirrored chips here).
    assert sorted(model.kept) == sorted(len(s.descriptors) for s in sightings)
    monkeypatch.setattr(analyzer, "BATCH_FRAMES", 1)  # frame by frame, as before batching
    alone, _ = VideoAnalyzer(FaceEngine(engine().model, threshold=1.0, flip=False)).analyse(
        video, 0.0
    )
    assert [(s.start, s.end, s.faces) for s in sightings] == [
        (s.start, s.end, s.faces) for s in alone
    ]
    for a, b in zip(sightings, alone, strict=True):
        assert np.abs(a.descriptors - b.descriptors).max() < 1e-5


def test_a_batch_whose_description_fails_is_counted_and_the_rest_are_analysed(
    scene: tuple[Scenario, Path],
) -> None:
    _, video = scene
    model = _CountsEmbeds(engine().model, fail_call=2)
    faulty = FaceEngine(model, threshold=engine().threshold)  # type: ignore[arg-type]
    sightings, stats = VideoAnalyzer(faulty).analyse(video, 0.0)
    assert 1 <= stats.frames_failed <= analyzer.BATCH_FRAMES
    assert len(sightings) >= 1
    assert all(np.isfinite(s.descriptors).all() for s in sightings)
