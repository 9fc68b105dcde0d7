"""Video to sightings: decode at a sampled rate, skip still frames, detect, embed, track.

Every face found is described by the tracking model (dlib's wherever it is computed, else
reid's), because a track must hold one person (``tracking``): a face continues a track only
if its box and its descriptor both fit, a shot cut ends every track, and an ended track is
split where its identity changes. One sighting per track: its time span, the path of its
faces' boxes, the best face's box, crop and quality, and the descriptors, by every model of
the engine, of up to ``best_per_track`` good faces chosen to differ from each other (pose,
light), so that a probe is compared with each of them. A frame that fails is counted and
skipped; it never ends the analysis. Times are wall-clock (epoch seconds): the video's own
timestamps offset by when its first frame was recorded.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from vigil.analytics.frames import change, crop, jpeg, rgb_of, thumbnail
from vigil.analytics.paths import PathPoints, path_points
from vigil.analytics.tracking import FaceTracker, Track, split_identities
from vigil.crowds.counting import CountSampler
from vigil.errors import InvalidInput
from vigil.faces.descriptors import Space, models_in, single, width
from vigil.faces.engine import FaceEngine
from vigil.faces.model import MAX_DESCRIPTORS, Box, Chip, Detection
from vigil.faces.quality import Quality, measure
from vigil.recording.playback import decoded_frames

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]  # seconds of video done
BATCH_FRAMES = 10  # sampled frames whose faces are described together (2 s at 5 fps) ...
BATCH_FACES = 16  # ... or fewer, once they hold this many faces
MIN_SCALE = 0.25  # frames are never searched in fewer than 1/16 of their pixels


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    sample_fps: float = 5.0
    # Mean absolute change of a 64x36 gray thumbnail (0-255) that counts as motion.
    motion_threshold: float = 1.5
    # ... and that counts as a shot cut (a new scene: every track ends). Within the real
    # clips measured, people moving changed it by at most 11; cuts by 14 to 27.
    cut_threshold: float = 12.0
    best_per_track: int = 5  # descriptors kept per sighting
    # FFmpeg's decoding threads: this process's share of the cores (0: as many as cores,
    # which oversubscribes a machine running several workers).
    decode_threads: int = 0
    max_gap_s: float = 1.0
    # A face joins a track within this distance of the track's recent descriptors ...
    link_distance: float = 0.5
    # ... and a track is split where the mean descriptors before and after differ this much.
    split_distance: float = 0.4
    # Tracks follow dlib's descriptor where it is computed (alone or fused), else reid's, at
    # the distances with the same false-match rates in the shipped calibrations as dlib's
    # 0.5 and 0.4 (4e-4 and 4e-6).
    reid_link_distance: float = 1.08
    reid_split_distance: float = 0.935
    # A track this long is closed as a sighting (and the person's next face starts another).
    max_track_faces: int = 150
    # A camera whose faces were at least W px wide lately is searched for faces from
    # face_margin * W px (YuNet: a quarter of the pixels for W = 80), and every
    # probe_every-th searched frame at the configured size (``analyse``).
    face_margin: float = 0.5
    probe_every: int = 20
    # Back-pressure: a live segment that ended more than busy_lag_s ago is analysed at a
    # rate falling from its own to min_sample_fps at lag_bound_s (``jobs.sampled_rate``).
    busy_lag_s: float = 6.0
    lag_bound_s: float = 12.0
    min_sample_fps: float = 2.0

    def __post_init__(self) -> None:
        if not 1 <= self.best_per_track <= MAX_DESCRIPTORS:
            raise ValueError(f"best_per_track must be 1 to {MAX_DESCRIPTORS}")
        if self.lag_bound_s <= self.busy_lag_s:
            raise ValueError("lag_bound_s must be above busy_lag_s")


@dataclass(frozen=True, slots=True)
class Sighting:
    start: float
    end: float
    box: Box
    quality: Quality
    crop_jpeg: bytes
    descriptors: NDArray[np.float32]  # (n, width(models)), 1 <= n <= best_per_track
    faces: int  # faces seen in the track
    models: str = "dlib"  # which models' vectors each descriptor holds (``descriptors.py``)
    path: PathPoints | None = None  # where each of its faces was (``paths``)

    def __post_init__(self) -> None:
        n = self.descriptors.shape[0]
        if self.descriptors.shape != (n, width(self.models)) or not 1 <= n <= MAX_DESCRIPTORS:
            raise ValueError(f"1 to {MAX_DESCRIPTORS} descriptors of {self.models} expected")


@dataclass
class _Face:
    score: float
    t: float
    detection: Detection
    chip: Chip
    descriptor: NDArray[np.float32]  # the tracking model's, of the chip alone (no flip)
    quality: Quality
    crop: NDArray[np.uint8]
    size: tuple[int, int]  # the frame's width and height


@dataclass(frozen=True, slots=True)
class _Frame:
    """A sampled frame's faces, found and aligned, waiting for their descriptors."""

    t: float
    detections: list[Detection]
    chips: list[Chip]
    qualities: list[Quality]
    crops: list[NDArray[np.uint8]]
    size: tuple[int, int]

    def faces(self, descriptors: list[NDArray[np.float32]]) -> list[_Face]:
        return [
            _Face(quality.rank, self.t, detection, chip, descriptor, quality, crop, self.size)
            for detection, chip, quality, crop, descriptor in zip(
                self.detections, self.chips, self.qualities, self.crops, descriptors, strict=True
            )
        ]


@dataclass
class AnalysisStats:
    frames_decoded: int = 0
    frames_sampled: int = 0
    frames_still: int = 0  # sampled but skipped: nothing moved and nobody was in view
    frames_failed: int = 0  # could not be analysed (logged), skipped
    cuts: int = 0  # shot cuts, each of which ended every track
    faces: int = 0
    smallest_face: int | None = None  # px wide, of the faces found
    search_scale: float = 1.0  # what frames were searched at in the end (probes aside)
    seconds: float = 0.0
    # Seconds (wall clock) spent in each stage: decode, motion, convert (to RGB, and
    # scaled for the detector), detect, align, embed (for tracking), track, describe (the
    # sightings' kept faces), count (people, when counted in the same pass)
    stages: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - began
            self.stages[stage] = self.stages.get(stage, 0.0) + spent


class VideoAnalyzer:
    def __init__(self, engine: FaceEngine, settings: AnalysisSettings = AnalysisSettings()) -> None:
        self.engine = engine
        self.settings = settings

    @property
    def _tracking(self) -> tuple[Space, float, float]:
        """The space tracks are followed in, and its link and split distances."""
        settings = self.settings
        if "dlib" in models_in(self.engine.model.tag):
            return single("dlib"), settings.link_distance, settings.split_distance
        return single("reid"), settings.reid_link_distance, settings.reid_split_distance

    def analyse(
        self,
        path: Path,
        origin: float,
        progress: Progress | None = None,
        *,
        sample_fps: float | None = None,
        face_px: float | None = None,
        counts: CountSampler | None = None,
    ) -> tuple[list[Sighting], AnalysisStats]:
        """Sightings in the video at ``path`` whose first frame was at ``origin``.

        ``sample_fps`` overrides the default rate (a camera's own setting). ``face_px``:
        the smallest face the camera has shown lately (learned from its earlier segments);
        frames are then searched for faces of half that width and more, a fraction of the
        pixels, and every ``probe_every``-th frame at the configured size, so a smaller
        face is still found (and from it on, every frame is searched at that size). Faces
        are found frame by frame and described in batches of a few frames
        (``BATCH_FRAMES``), then tracked in time order; a shot cut ends the batch and every
        track. ``counts`` takes people counts from the frames as they pass (one decode for
        both).
        """
        settings = self.settings
        rate = sample_fps or settings.sample_fps
        stats = AnalysisStats()
        tracker: FaceTracker[_Face] = FaceTracker(
            max_gap_s=settings.max_gap_s, link_distance=self._tracking[1]
        )
        model = self.engine.model
        full = model.search_scale(None)
        floor = None if face_px is None else face_px * settings.face_margin
        scale = full if floor is None else max(MIN_SCALE, model.search_scale(floor))
        ended: list[Track[_Face]] = []
        batch: list[_Frame] = []
        previous: NDArray[np.float32] | None = None
        last_face = -math.inf  # when a face was last found: still frames are skipped after
        searched = 0
        for t, picture, thumb in self._sampled(path, rate, stats):
            if counts is not None:
                with stats.timed("count"):
                    counts.offer(t, thumb, lambda: rgb_of(picture))  # noqa: B023 - called now
            with stats.timed("motion"):
                moved = None if previous is None else change(previous, thumb)
            previous = thumb
            if moved is not None and moved >= settings.cut_threshold:
                stats.cuts += 1
                ended += self._track(tracker, batch, stats)
                ended += tracker.finish()
                batch = []
            elif (
                moved is not None
                and moved < settings.motion_threshold
                and t - last_face > settings.max_gap_s
            ):
                stats.frames_still += 1
                continue
            probe = scale < full and searched % settings.probe_every == 0
            searched += 1
            try:
                frame = self._find(origin + t, picture, full if probe else scale, stats)
            except Exception:  # one bad frame must not end the analysis: logged, counted
                logger.exception("frame at %.2f s of %s could not be analysed", t, path.name)
                stats.frames_failed += 1
                continue
            if probe and floor is not None and any(d.box.width < floor for d in frame.detections):
                scale = full  # a face smaller than expected: search every frame for such
            last_face = t if frame.detections else last_face
            batch.append(frame)
            if len(batch) >= BATCH_FRAMES or sum(len(f.chips) for f in batch) >= BATCH_FACES:
                ended += self._track(tracker, batch, stats)
                batch = []
            if progress is not None:
                progress(t)
        ended += self._track(tracker, batch, stats)
        ended += tracker.finish()
        stats.search_scale = scale
        with stats.timed("describe"):  # the kept faces, by every model
            sightings = [s for track in ended for s in self._sightings(track)]
        return sorted(sightings, key=lambda s: s.start), stats

    def _sampled(
        self, path: Path, rate: float, stats: AnalysisStats
    ) -> Iterator[tuple[float, av.VideoFrame, NDArray[np.float32]]]:
        """(seconds since the first frame, the decoded frame, gray thumbnail) at ``rate``
        frames a second; the thumbnail (MOTION_SIZE, for the motion gate) is scaled by
        FFmpeg from the frame, which is converted to RGB only if the gate lets it through.
        """
        interval = 1.0 / rate
        frames = decoded_frames(path, self.settings.decode_threads, rate)
        first: float | None = None
        next_t = 0.0
        try:
            while True:
                with stats.timed("decode"):
                    frame = next(frames, None)
                    if frame is None:
                        return
                    stats.frames_decoded += 1
                    if frame.time is None:
                        continue
                    first = frame.time if first is None else first
                    t = frame.time - first
                    if t + 1e-6 < next_t:
                        continue
                    while next_t <= t + 1e-6:  # on a grid: the rate holds whatever the
                        next_t += interval  # frames' own spacing (or those skipped)
                    stats.frames_sampled += 1
                    stats.seconds = t
                with stats.timed("motion"):
                    thumb = thumbnail(frame)
                yield t, frame, thumb
        except av.FFmpegError as exc:  # converting a decoded frame
            raise InvalidInput(f"{path.name} is damaged: {exc}") from None

    def _find(self, t: float, frame: av.VideoFrame, scale: float, stats: AnalysisStats) -> _Frame:
        """The frame's faces, searched at ``scale`` (in a copy FFmpeg scales), located,
        aligned and measured at full size (described later, with the batch)."""
        model = self.engine.model
        with stats.timed("convert"):
            rgb = rgb_of(frame)
            small = rgb_of(frame, scale) if scale < 1.0 else None
        with stats.timed("detect"):
            if small is None:
                detections = model.detect(rgb, self.engine.upsample, scale=scale)
            else:
                found = model.detect(small, self.engine.upsample, scale=1.0)
                detections = self.engine.located(rgb, found, small.shape[1] / rgb.shape[1])
        with stats.timed("align"):
            chips = model.chips(rgb, detections)
            qualities = [measure(d, c.face) for d, c in zip(detections, chips, strict=True)]
            crops = [crop(rgb, d.box) for d in detections]
        stats.faces += len(detections)
        if detections:
            smallest = min(d.box.width for d in detections)
            stats.smallest_face = min(stats.smallest_face or smallest, smallest)
        return _Frame(t, detections, chips, qualities, crops, (rgb.shape[1], rgb.shape[0]))

    def _track(
        self, tracker: FaceTracker[_Face], batch: list[_Frame], stats: AnalysisStats
    ) -> list[Track[_Face]]:
        """Describe the batch's faces in one call, then track them frame by frame."""
        chips = [chip for frame in batch for chip in frame.chips]
        try:
            with stats.timed("embed"):  # by the tracking model alone: the others, per sighting
                descriptors = iter(self.engine.model.embed(chips, self._tracking[0].models))
        except Exception:  # as for one frame: the batch's frames are logged, counted, skipped
            logger.exception("faces of %d frames could not be described", len(batch))
            stats.frames_failed += len(batch)
            return []
        ended: list[Track[_Face]] = []
        with stats.timed("track"):
            for frame in batch:
                vectors = [next(descriptors) for _ in frame.chips]
                boxes = [d.box for d in frame.detections]
                tracks, gone = tracker.update(frame.t, boxes, vectors)
                ended += gone
                for face, track in zip(frame.faces(vectors), tracks, strict=True):
                    track.items.append(face)
                    if len(track.items) >= self.settings.max_track_faces:
                        tracker.end(track)
                        ended.append(track)
        return ended

    def _sightings(self, track: Track[_Face]) -> list[Sighting]:
        """One sighting per run of the track that holds one person."""
        if not track.items:  # its only frame failed after the tracker saw it
            return []
        descriptors = np.array([f.descriptor for f in track.items], dtype=np.float32)
        runs = split_identities(descriptors, split_distance=self._tracking[2])
        return [self._sighting(track.items[start:end]) for start, end in runs]

    def _sighting(self, faces: list[_Face]) -> Sighting:
        """The track's best faces described by every model of the engine (each model's
        cost is so paid for a few faces of a track, not for every face of every frame)."""
        chosen = _diverse(faces, self.settings.best_per_track)
        best = chosen[0]
        first = faces[0].t
        path = [(f.t - first, _corners(f.detection.box)) for f in faces]
        tracked = {self._tracking[0].models[0]: np.array([f.descriptor for f in chosen])}
        descriptors = self.engine.describe([f.chip for f in chosen], tracked)
        return Sighting(
            start=faces[0].t,  # the first and last face seen: never past a cut or a split
            end=faces[-1].t,
            box=best.detection.box,
            quality=best.quality,
            crop_jpeg=jpeg(best.crop),
            descriptors=descriptors.astype(np.float32),
            faces=len(faces),
            models=self.engine.model.tag,
            path=path_points(path, *best.size),
        )


def _corners(box: Box) -> tuple[float, float, float, float]:
    return (box.left, box.top, box.right, box.bottom)


def _diverse(faces: list[_Face], count: int) -> list[_Face]:
    """The best face, then, among the better half, those least like the ones chosen."""
    ranked = sorted(faces, key=lambda f: f.score, reverse=True)
    pool = ranked[: max(count, (len(ranked) + 1) // 2)]
    chosen = [pool.pop(0)]
    while pool and len(chosen) < count:
        apart = [
            min(float(np.linalg.norm(f.descriptor - c.descriptor)) for c in chosen) for f in pool
        ]
        chosen.append(pool.pop(int(np.argmax(apart))))
    return chosen
