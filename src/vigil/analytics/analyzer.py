"""Video to sightings: decode at a sampled rate, skip still frames, detect, track, embed.

One sighting per track: its time span, the best face's box, crop and quality, and the mean
of the descriptors of its best few faces. Times are wall-clock (epoch seconds): the video's
own timestamps offset by when its first frame was recorded.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from vigil.analytics.tracking import IouTracker, Track
from vigil.errors import InvalidInput
from vigil.faces.engine import FaceEngine
from vigil.faces.model import Box, Detection
from vigil.faces.quality import Quality, measure

Progress = Callable[[float], None]  # seconds of video done
MOTION_SIZE = (64, 36)
CROP_MARGIN = 0.4


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    sample_fps: float = 5.0
    # Mean absolute change of a 64x36 gray thumbnail (0-255) that counts as motion.
    motion_threshold: float = 1.5
    best_per_track: int = 3
    max_gap_s: float = 1.0


@dataclass(frozen=True, slots=True)
class Sighting:
    start: float
    end: float
    box: Box
    quality: Quality
    crop_jpeg: bytes
    embedding: NDArray[np.float32]
    faces: int  # faces seen in the track


@dataclass
class _Face:
    score: float
    t: float
    detection: Detection
    chip: NDArray[np.uint8]
    quality: Quality
    crop: NDArray[np.uint8]


@dataclass
class AnalysisStats:
    frames_decoded: int = 0
    frames_sampled: int = 0
    frames_still: int = 0  # sampled but skipped: nothing moved and nobody was in view
    faces: int = 0
    seconds: float = 0.0


class VideoAnalyzer:
    def __init__(self, engine: FaceEngine, settings: AnalysisSettings = AnalysisSettings()) -> None:
        self.engine = engine
        self.settings = settings

    def analyse(
        self,
        path: Path,
        origin: float,
        progress: Progress | None = None,
        *,
        sample_fps: float | None = None,
    ) -> tuple[list[Sighting], AnalysisStats]:
        """Sightings in the video at ``path`` whose first frame was at ``origin``.

        ``sample_fps`` overrides the default rate (a camera's own setting).
        """
        rate = sample_fps or self.settings.sample_fps
        stats = AnalysisStats()
        tracker: IouTracker[_Face] = IouTracker(max_gap_s=self.settings.max_gap_s)
        ended: list[Track[_Face]] = []
        previous: NDArray[np.float32] | None = None
        for t, rgb in self._sampled(path, rate, stats):
            thumb = _thumbnail(rgb)
            moved = previous is None or _change(previous, thumb) >= self.settings.motion_threshold
            previous = thumb
            if not moved and not tracker.active:
                stats.frames_still += 1
                continue
            ended += self._frame(tracker, origin + t, rgb, stats)
            if progress is not None:
                progress(t)
        ended += tracker.finish()
        return [self._sighting(track, rate) for track in ended], stats

    def _sampled(
        self, path: Path, rate: float, stats: AnalysisStats
    ) -> Iterator[tuple[float, NDArray[np.uint8]]]:
        """(seconds since the first frame, RGB) at ``rate`` frames per second."""
        interval = 1.0 / rate
        try:
            container = av.open(str(path))
        except (av.FFmpegError, OSError) as exc:
            raise InvalidInput(f"{path.name} is not a readable video: {exc}") from None
        with container:
            if not container.streams.video:
                raise InvalidInput(f"{path.name} has no video")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            first: float | None = None
            next_t = 0.0
            try:
                for frame in container.decode(stream):
                    stats.frames_decoded += 1
                    if frame.time is None:
                        continue
                    first = frame.time if first is None else first
                    t = frame.time - first
                    if t + 1e-6 < next_t:
                        continue
                    next_t = t + interval
                    stats.frames_sampled += 1
                    stats.seconds = t
                    yield t, np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            except av.FFmpegError as exc:
                raise InvalidInput(f"{path.name} is damaged: {exc}") from None

    def _frame(
        self, tracker: IouTracker[_Face], t: float, rgb: NDArray[np.uint8], stats: AnalysisStats
    ) -> list[Track[_Face]]:
        detections = self.engine.model.detect(rgb, self.engine.upsample)
        chips = self.engine.model.chips(rgb, detections)
        tracks, ended = tracker.update(t, [d.box for d in detections])
        stats.faces += len(detections)
        for detection, chip, track in zip(detections, chips, tracks, strict=True):
            quality = measure(detection, chip)
            score = quality.face_px * quality.frontalness * min(quality.sharpness, 200.0)
            face = _Face(score, t, detection, chip, quality, _crop(rgb, detection.box))
            track.items.append(face)
            track.items.sort(key=lambda f: f.score, reverse=True)
            del track.items[self.settings.best_per_track :]
        return ended

    def _sighting(self, track: Track[_Face], rate: float) -> Sighting:
        best = track.items[0]
        descriptors = self.engine.describe([f.chip for f in track.items])
        mean = descriptors.mean(axis=0)
        return Sighting(
            start=track.first_t,
            end=max(track.last_t, track.first_t + 1.0 / rate),
            box=best.detection.box,
            quality=best.quality,
            crop_jpeg=_jpeg(best.crop),
            embedding=mean.astype(np.float32),
            faces=len(track.items),
        )


def _thumbnail(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    image = Image.fromarray(rgb).convert("L").resize(MOTION_SIZE, Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32)


def _change(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    return float(np.abs(a - b).mean())


def _crop(rgb: NDArray[np.uint8], box: Box) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    margin_x, margin_y = int(box.width * CROP_MARGIN), int(box.height * CROP_MARGIN)
    return rgb[
        max(0, box.top - margin_y) : min(height, box.bottom + margin_y),
        max(0, box.left - margin_x) : min(width, box.right + margin_x),
    ].copy()


def _jpeg(rgb: NDArray[np.uint8]) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=85)
    return out.getvalue()
