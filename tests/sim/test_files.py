"""Cameras that cost nothing to feed: rendered once, served by stream copy, looped."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from av.video.stream import VideoStream

from tests.cli_runner import vigil
from tests.streams import Simulator, people_folder

FEED_S = 3


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory, portrait_path: Path) -> Path:
    root = tmp_path_factory.mktemp("feeds")
    faces = people_folder(root, portrait_path)
    made = vigil(
        root, "sim", "render", str(root / "feeds"), "--faces", str(faces), "--cameras", "2",
        "--seconds", str(FEED_S), "--width", "320", "--height", "180", "--json",
    )  # fmt: skip
    assert made.code == 0, made.stderr
    assert sorted(Path(p).name for p in made.json()["files"]) == ["cam1.mp4", "cam2.mp4"]
    return root / "feeds"


def test_a_rendered_feed_is_served_as_it_is_looped_with_its_time_running_on(feeds: Path) -> None:
    with av.open(str(feeds / "cam1.mp4")) as source:
        stream = source.streams.video[0]
        sizes = [p.size for p in source.demux(stream) if p.size]
        assert (stream.width, stream.height, stream.average_rate) == (320, 180, 10)
    with Simulator(feeds, from_files=True) as sim:
        with av.open(sim.url("cam2"), options={"rtsp_transport": "tcp"}) as client:
            assert client.streams.video[0].codec_context.name == "h264"
        with av.open(sim.url("cam1"), options={"rtsp_transport": "tcp"}) as client:
            video = client.streams.video[0]
            packets, times = [], []
            for packet in client.demux(video):
                if packet.size and packet.pts is not None:
                    packets.append(packet.size)
                    times.append(float(packet.pts * packet.time_base))
                if len(times) >= FEED_S * 10 + 15:  # past the end of the file, into the loop
                    break
    steps = np.diff(times)
    assert steps.min() > 0.05  # always forward, frame by frame,
    assert steps.max() < 0.2  # with no jump where the file starts again
    assert times[-1] - times[0] >= FEED_S + 1.0
    # The stream copies the file's frames (after the first keyframe the client joined at).
    copied = sum(1 for size in packets if size in set(sizes))
    assert copied >= 0.8 * len(packets)


def _write(path: Path, codec: str, options: dict[str, str]) -> Path:
    with av.open(str(path), "w") as out:
        stream = cast(VideoStream, out.add_stream(codec, rate=10))
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 10)
        stream.options = options
        for n in range(20):
            picture = av.VideoFrame.from_ndarray(
                np.full((120, 160, 3), n * 10, dtype=np.uint8), format="rgb24"
            )
            picture.pts = n
            for packet in stream.encode(picture):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.mark.parametrize(
    ("codec", "options", "words"),
    [
        ("libx264", {"bf": "2", "preset": "medium"}, "has B-frames"),
        ("mpeg4", {}, "only H.264"),
        (None, {}, "holds no video file"),
    ],
)
def test_what_cannot_be_served_as_it_is_is_refused_clearly(
    tmp_path: Path, codec: str | None, options: dict[str, str], words: str
) -> None:
    folder = tmp_path / "feeds"
    folder.mkdir()
    if codec is not None:
        _write(folder / "cam1.mp4", codec, options)
    (folder / "notes.txt").write_text("not a video")
    served = vigil(tmp_path, "sim", "serve", "--from-files", str(folder), "--duration", "1")
    assert served.code == 9
    assert words in served.stderr + served.stdout
