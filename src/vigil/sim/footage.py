"""Footage files for tests and benchmarks: real clips joined, or a simulated scene rendered.

Clips of different people, one after another, are what a fixed camera sees when one person
leaves and another steps in; each clip's time span in the result is the ground truth of
who was there when. Frames are re-encoded (any size, pixel format or codec that FFmpeg
writes), so that odd sizes, 4:4:4, grey and 10-bit sources can be made from real video.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream
from numpy.typing import NDArray

Frame = NDArray[np.uint8]  # RGB


@dataclass(frozen=True, slots=True)
class Span:
    clip: Path
    start: float  # seconds into the joined video
    end: float


def encode(
    frames: Iterable[Frame],
    out: Path,
    *,
    fps: int,
    size: tuple[int, int],
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
) -> int:
    """Write RGB frames of ``size`` (width, height) as a video at ``fps``; how many."""
    n = 0
    with av.open(str(out), "w") as output:
        stream = cast(VideoStream, output.add_stream(codec, rate=fps))
        stream.width, stream.height = size
        stream.pix_fmt = pix_fmt
        stream.codec_context.time_base = Fraction(1, fps)
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "g": str(fps)}
        for rgb in frames:
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            picture.pts = n
            n += 1
            for packet in stream.encode(picture):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return n


def join_clips(
    clips: Sequence[Path],
    out: Path,
    *,
    fps: int = 30,
    size: tuple[int, int] | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
) -> list[Span]:
    """Write the clips' frames one after another into ``out``; where each one lies in it.

    Every frame of every clip is kept and played at ``fps``; ``size`` (width, height)
    rescales them, else the first clip's size is used.
    """
    if size is None:
        with av.open(str(clips[0])) as first:
            stream = first.streams.video[0]
            size = (stream.width, stream.height)
    counts: list[int] = []

    def frames() -> Iterator[Frame]:
        for clip in clips:
            counts.append(0)
            with av.open(str(clip)) as source:
                for frame in source.decode(video=0):
                    counts[-1] += 1
                    rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                    yield np.ascontiguousarray(rgb, dtype=np.uint8)

    encode(frames(), out, fps=fps, size=size, codec=codec, pix_fmt=pix_fmt)
    ends = np.cumsum(counts) / fps
    return [
        Span(clip, float(end - n / fps), float(end))
        for clip, n, end in zip(clips, counts, ends, strict=True)
    ]
