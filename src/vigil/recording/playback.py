"""Playback: one MP4 for a time range, remuxed (not re-encoded) from its segments, and the
decoded frames of a video file for those who look at them (analysis, counting, public
rendering)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from vigil.errors import InvalidInput
from vigil.recording.records import Segment


def export_mp4(segments: list[tuple[Segment, Path]], out: Path) -> int:
    """Write the segments (each with its file), in order, as one MP4 whose timeline keeps
    their wall-clock gaps.

    Returns the number of video packets written. Whole segments are copied: the clip starts
    at the keyframe that begins the first segment overlapping the range.
    """
    if not segments:
        return 0
    origin = segments[0][0].start
    packets = 0
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        out_stream = None
        last_dts = -1
        for segment, file in segments:
            with av.open(str(file)) as source:
                stream = source.streams.video[0]
                if out_stream is None:
                    out_stream = output.add_stream_from_template(stream)
                time_base = stream.time_base or Fraction(1, 90000)
                shift = _ticks(segment.start, origin, time_base)
                base: int | None = None
                for packet in source.demux(stream):
                    if packet.dts is None:
                        continue
                    if base is None:
                        base = packet.dts
                    dts = packet.dts - base + shift
                    if dts <= last_dts:
                        dts = last_dts + 1  # clock jitter between segments: keep order
                    pts_offset = (packet.pts if packet.pts is not None else packet.dts) - packet.dts
                    packet.dts, packet.pts = dts, dts + pts_offset
                    last_dts = dts
                    packet.stream = out_stream
                    output.mux(packet)
                    packets += 1
    return packets


def _ticks(moment: datetime, origin: datetime, time_base: Fraction) -> int:
    return int((moment - origin).total_seconds() / time_base)


def decoded_frames(
    path: Path, threads: int = 0, wanted_fps: float | None = None
) -> Iterator[av.VideoFrame]:
    """Every frame of the file's first video stream, decoded with ``threads`` threads (0:
    FFmpeg decides); InvalidInput when it cannot be read, has no video, or is damaged.

    ``wanted_fps``: the caller samples frames at most this often. A stream of three times
    that rate or more is then decoded without its non-reference frames (B-frames, which
    no other frame needs: half of a typical 25-30 fps file's decoding), for as long as the
    frames left come at least that often.
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise InvalidInput(f"{path.name} is not a readable video: {exc}") from None
    with container:
        if not container.streams.video:
            raise InvalidInput(f"{path.name} has no video")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = threads
        rate = float(stream.average_rate or 0)
        skipping = wanted_fps is not None and rate >= 3 * wanted_fps
        if skipping:
            stream.codec_context.skip_frame = "NONREF"
        last: float | None = None
        try:
            for frame in container.decode(stream):
                if skipping and frame.time is not None:
                    if last is not None and wanted_fps and frame.time - last > 1 / wanted_fps:
                        stream.codec_context.skip_frame = "DEFAULT"  # too few frames left
                        skipping = False
                    last = frame.time
                yield frame
        except av.FFmpegError as exc:
            raise InvalidInput(f"{path.name} is damaged: {exc}") from None


def video_seconds(path: Path) -> float:
    """How long the file plays, as its container says; InvalidInput when it cannot be read."""
    try:
        with av.open(str(path)) as container:
            return (container.duration or 0) / av.time_base
    except (av.FFmpegError, OSError) as exc:
        raise InvalidInput(f"{path.name} is not a readable video: {exc}") from None


@dataclass(frozen=True, slots=True)
class Picture:
    rgb: NDArray[np.uint8]
    at: float  # wall-clock time (epoch seconds) it was recorded


def recorded_pictures(path: Path, start: float, fps: float, threads: int = 1) -> Iterator[Picture]:
    """The frames of a recording that began at ``start`` (epoch seconds), at most ``fps``
    a second (fewer than one too), as RGB with their wall-clock times."""
    first: float | None = None
    due = 0.0
    for frame in decoded_frames(path, threads):
        if frame.time is None:
            continue
        first = frame.time if first is None else first
        t = frame.time - first
        if t + 1e-6 < due:
            continue
        due = t + 1.0 / fps
        try:
            rgb = np.ascontiguousarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
        except av.FFmpegError as exc:  # converting a decoded frame
            raise InvalidInput(f"{path.name} is damaged: {exc}") from None
        yield Picture(rgb, start + t)
