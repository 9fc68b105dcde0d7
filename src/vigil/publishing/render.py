"""Public video is made here: recorded frames, faces blurred, scaled to at most 720p and
encoded as fragmented MP4, one fragment a second, each stamped with its wall-clock start.

Faces are found on the frame as recorded (full resolution) before it is scaled down, and
every frame that is sent goes through the redactor: there is no path from a recording to
the output that skips it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

from vigil.errors import NotFound
from vigil.faces.yunet import MIN_PX, YuNetDetector
from vigil.publishing.redaction import Box, FaceRedactor, Frame
from vigil.recording.files import SegmentFiles
from vigil.recording.fmp4 import FRAGMENTED_MP4, FragmentSplitter, media_seconds
from vigil.recording.playback import Picture, recorded_pictures
from vigil.recording.records import Segment

MAX_WIDTH, MAX_HEIGHT = 1280, 720
TIME_BASE = Fraction(1, 1000)  # output timestamps in milliseconds
# Redaction searches with a lower score than recognition (0.7): a missed face is the
# failure that matters here; a blurred shadow costs nothing.
REDACTION_SCORE = 0.4


class YuNetBoxes:
    """YuNet at full resolution, faces cut off by the frame's edge included. The frame is
    then searched once more, enlarged so that faces down to 10 px wide in the video that is
    sent are found (twice the output's size, at most twice the frame's); the enlarged
    search alone would miss the largest faces."""

    def __init__(self, *, threads: int = 1, score: float = REDACTION_SCORE) -> None:
        self.threads = threads
        self.score = score
        self._detectors: dict[float, YuNetDetector] = {}

    def boxes(self, rgb: Frame) -> list[Box]:
        width = rgb.shape[1]
        scales = {1.0, min(2.0, max(1.0, 2 * output_size(width, rgb.shape[0])[0] / width))}
        return [found.box for scale in sorted(scales) for found in self._at(scale).detect(rgb)]

    def _at(self, scale: float) -> YuNetDetector:
        if scale not in self._detectors:
            self._detectors[scale] = YuNetDetector(
                smallest_px=max(1, round(MIN_PX / scale)),
                score_threshold=self.score,
                threads=self.threads,
                cut_faces=True,
                max_scale=scale,
            )
        return self._detectors[scale]


def output_size(width: int, height: int) -> tuple[int, int]:
    """The frame's size scaled to fit 1280x720 (never up), even for H.264's chroma."""
    scale = min(1.0, MAX_WIDTH / width, MAX_HEIGHT / height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


@dataclass
class FragmentEncoder:
    """H.264 in fragmented MP4 at ``fps``; its fragments come out with their start times."""

    fps: int
    _splitter: FragmentSplitter = field(default_factory=FragmentSplitter)
    _output: av.container.OutputContainer | None = None
    _stream: VideoStream | None = None
    _origin: float | None = None  # the first frame's time: timestamps count from it
    _sent: int = 0
    _pts: int = -1
    _starts: deque[float] = field(default_factory=deque)

    @property
    def init(self) -> bytes | None:
        return self._splitter.init

    @property
    def origin(self) -> float | None:
        """When the first frame was recorded (epoch seconds): the video's time zero."""
        return self._origin

    def encode(self, picture: Picture) -> list[tuple[float, bytes]]:
        """Add one frame; the fragments completed by it, with their start times."""
        stream = self._open(picture.rgb) if self._stream is None else self._stream
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture.rgb), format="rgb24")
        frame = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
        if self._origin is None:
            self._origin = picture.at
        frame.pts = max(self._pts + 1, round((picture.at - self._origin) * 1000))
        frame.time_base = TIME_BASE
        if self._sent % self.fps == 0:
            frame.pict_type = av.video.frame.PictureType.I
            self._starts.append(picture.at)
        self._sent += 1
        self._pts = frame.pts
        self._mux(stream.encode(frame))
        return self._fragments()

    def close(self) -> list[tuple[float, bytes]]:
        if self._stream is not None and self._output is not None:
            self._mux(self._stream.encode(None))
            self._output.close()
            self._stream = self._output = None
        return self._fragments()

    def _open(self, first: Frame) -> VideoStream:
        width, height = output_size(first.shape[1], first.shape[0])
        self._output = av.open(self._splitter, "w", format="mp4", options=FRAGMENTED_MP4)
        stream = self._output.add_stream("libx264", rate=self.fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        stream.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "g": str(10 * self.fps),
            "forced-idr": "1",
        }
        self._stream = stream
        return stream

    def _mux(self, packets: list[av.Packet[VideoStream]]) -> None:
        if self._output is not None:
            for packet in packets:
                self._output.mux(packet)

    def _fragments(self) -> list[tuple[float, bytes]]:
        return [(self._starts.popleft(), data) for data in self._splitter.drain()]


@dataclass(frozen=True, slots=True)
class Rendered:
    start: float  # when its first frame was recorded (epoch seconds): its time zero
    seconds: float  # of video

    @property
    def span(self) -> tuple[datetime, datetime]:
        start = datetime.fromtimestamp(self.start, UTC)
        return start, start + timedelta(seconds=self.seconds)


# Where the faces to leave visible are in a picture (an export showing one person).
Shown = Callable[[Picture], list[Box]]


def redacted(
    redactor: FaceRedactor, pictures: Iterator[Picture], shown: Shown | None = None
) -> Iterator[Picture]:
    """The pictures with their faces blurred, but those ``shown`` (the redactor looks ahead,
    times follow)."""
    times: deque[float] = deque()

    def frames() -> Iterator[tuple[Frame, list[Box]]]:
        for picture in pictures:
            times.append(picture.at)
            yield picture.rgb, [] if shown is None else shown(picture)

    for rgb in redactor.redact_except(frames()):
        yield Picture(rgb, times.popleft())


def render_redacted(
    files: SegmentFiles,
    scratch: Path,
    segments: list[Segment],
    span: tuple[float, float],
    path: Path,
    rate: tuple[int, int],
    stamp: Callable[[Picture], Picture] | None = None,
    shown: Shown | None = None,
) -> Rendered:
    """Write the pictures of [start, end) (epoch seconds) in the segments to ``path`` as one
    MP4 at ``rate`` (frames a second, decoding threads), every face blurred but those
    ``shown`` (then ``stamp``, a watermark, drawn in). NotFound when no frame of the range
    could be read."""
    (start, end), (fps, threads) = span, rate
    encoder = FragmentEncoder(fps)

    def pictures() -> Iterator[Picture]:
        for segment in segments:
            with files.opened(segment, scratch) as file:
                for picture in recorded_pictures(file, segment.start.timestamp(), fps, threads):
                    if start <= picture.at < end:
                        yield picture

    fragments: list[bytes] = []
    faces = FaceRedactor(YuNetBoxes(threads=threads))
    for picture in redacted(faces, pictures(), shown):
        out = picture if stamp is None else stamp(picture)
        fragments += [data for _, data in encoder.encode(out)]
    fragments += [data for _, data in encoder.close()]
    if encoder.init is None or encoder.origin is None:
        raise NotFound("no frame of that range could be read")
    video = b"".join(fragments)
    path.write_bytes(encoder.init + video)
    return Rendered(encoder.origin, media_seconds(encoder.init, video))
