"""Cameras that cost nothing to feed: H.264 files served by stream copy, looped.

A benchmark of Vigil must not also measure the cameras. ``render_feeds`` draws and encodes
a scenario's cameras once, before anything is measured; ``file_feeds`` then serves each
file of a folder as a camera of its own name, its access units sent as they are (demuxed,
never decoded) at the pace they were recorded, from the start again at its end. GStreamer
stamps each access unit as it arrives, so the timestamps run on across loops. The
parameter sets of an MP4 or Matroska file go into the caps, so a client is answered at
once rather than at the stream's next keyframe.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
from av.video.stream import VideoStream

from vigil.sim.footage import encode
from vigil.sim.scenario import Renderer, Scenario
from vigil.sim.server import Feed, SimulatorError, StreamFormat, gst_modules

SUFFIXES = {".mp4", ".mkv", ".mov", ".ts", ".h264", ".avi"}


def _launch(extradata: bytes | None) -> str:
    """The media's pipeline: length-prefixed access units with their parameter sets in the
    caps (MP4, Matroska: ``avcC`` extradata), else Annex B as it comes (TS, raw H.264)."""
    if extradata and extradata[:1] == b"\x01":
        caps = f"video/x-h264,stream-format=avc,alignment=au,codec_data=(buffer){extradata.hex()}"
    else:
        caps = "video/x-h264,stream-format=byte-stream,alignment=au"
    return (
        f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} "
        "! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def render_feeds(
    scenario: Scenario, folder: Path, *, seconds: float, fmt: StreamFormat
) -> list[Path]:
    """Each of the scenario's cameras drawn for ``seconds`` into ``folder/<camera>.mp4``
    (x264, a keyframe a second, no B-frames: what the live simulator sends)."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = round(seconds * fmt.fps)
    written = []
    for camera in scenario.cameras:
        renderer = Renderer(scenario, camera)
        out = folder / f"{camera}.mp4"
        drawn = (renderer.frame(i / fmt.fps) for i in range(frames))
        encode(drawn, out, fps=fmt.fps, size=(fmt.width, fmt.height))
        written.append(out)
    return written


def feed_files(folder: Path) -> dict[str, Path]:
    """The folder's video files by camera name (the file's stem), each checked."""
    if not folder.is_dir():
        raise SimulatorError(f"{folder} is not a folder")
    files = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES}
    if not files:
        raise SimulatorError(f"{folder} holds no video file ({', '.join(sorted(SUFFIXES))})")
    for path in files.values():
        _check(path)
    return files


def file_feeds(folder: Path) -> dict[str, Feed]:
    gst = gst_modules()[1]
    return {camera: FileFeed(gst, camera, path) for camera, path in feed_files(folder).items()}


def _check(path: Path) -> None:
    """Only what can be sent as it is: H.264 video without B-frames (they would be sent out
    of order, since each access unit is stamped when it is sent)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SimulatorError(f"{path.name} has no video")
            stream = container.streams.video[0]
            if stream.codec_context.name != "h264":
                raise SimulatorError(
                    f"{path.name} is {stream.codec_context.name}: only H.264 is served as it is"
                )
            if any(_is_b_frame(packet) for packet in _first_packets(container, stream)):
                raise SimulatorError(f"{path.name} has B-frames: re-encode it without (-bf 0)")
    except av.FFmpegError as exc:
        raise SimulatorError(f"{path.name} is not a readable video: {exc}") from None


def _first_packets(container: Any, stream: VideoStream, count: int = 60) -> Iterator[Any]:
    for n, packet in enumerate(container.demux(stream)):
        if n >= count:
            return
        if packet.size:
            yield packet


def _is_b_frame(packet: Any) -> bool:
    """A packet shown before one decoded earlier (pts below dts is reordering)."""
    return packet.pts is not None and packet.dts is not None and packet.pts > packet.dts


class FileFeed(Feed):
    """One file's access units, paced by their timestamps and looped; a media that joins
    mid-stream is sent nothing before the next keyframe."""

    def __init__(self, gst: Any, camera: str, path: Path) -> None:
        super().__init__(gst, camera)
        self.path = path
        with av.open(str(path)) as container:
            self.launch = _launch(container.streams.video[0].codec_context.extradata)
        self._joined: set[int] = set()  # medias that have had their first keyframe
        self.loops = 0

    def detach(self, source: Any) -> None:
        super().detach(source)
        self._joined.discard(id(source))

    def _run(self) -> None:
        began = time.monotonic()
        while not self._stop.is_set():
            began = self._play(began)
            self.loops += 1

    def _play(self, began: float) -> float:
        """Send the file once from ``began`` (monotonic); when the next loop is due."""
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 10)
            first: float | None = None
            t = 0.0
            for packet in container.demux(stream):
                if packet.pts is None or not packet.size:
                    continue
                at = float(packet.pts * packet.time_base)
                first = at if first is None else first
                t = at - first
                if self._stop.wait(max(0.0, began + t - time.monotonic())):
                    break
                self._send(bytes(packet), packet.is_keyframe)
        return began + t + 1.0 / rate

    def _send(self, data: bytes, key: bool) -> None:
        for source in self.sources():
            if key:
                self._joined.add(id(source))
            if id(source) in self._joined:
                self.push(source, data)
