"""Real streams for tests: the simulator's RTSP server in a subprocess, and H.264 clips."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from vigil.recording.fmp4 import FRAGMENTED_MP4, FragmentSplitter
from vigil.sim.scenario import Renderer
from vigil.sim.server import wait_until_serving


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def people_folder(root: Path, portrait: Path) -> Path:
    """An LFW-layout folder (one sub-folder per person) holding the test portrait."""
    folder = root / "people" / "Grace_Hopper"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(portrait, folder / "Grace_Hopper_0001.jpg")
    return root / "people"


class Simulator:
    """``vigil sim serve`` as its own process, so a test can cut a camera by stopping it."""

    def __init__(
        self,
        faces: Path,
        *,
        cameras: int = 1,
        port: int | None = None,
        truth: Path | None = None,
        from_files: bool = False,
    ) -> None:
        self.faces = faces  # or, ``from_files``, a folder of feeds served by stream copy
        self.from_files = from_files
        self.cameras = cameras
        self.port = port or free_port()
        self.truth = truth
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, camera: str = "cam1") -> str:
        return f"rtsp://127.0.0.1:{self.port}/{camera}"

    def start(self) -> Simulator:
        args = [
            sys.executable,
            "-m",
            "vigil",
            "sim",
            "serve",
            "--from-files" if self.from_files else "--faces",
            str(self.faces),
            "--cameras",
            str(self.cameras),
            "--port",
            str(self.port),
        ]
        if self.truth is not None:
            args += ["--truth", str(self.truth)]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ)
        )
        wait_until_serving(self.port, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # a camera losing power
            self.process.wait(10)
        self.process = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def h264_fragments(
    seconds: float,
    *,
    fps: int = 10,
    keyframe_s: float = 1.0,
    size: tuple[int, int] = (160, 120),
    frames: Callable[[float], NDArray[np.uint8]] | None = None,
) -> tuple[bytes, list[bytes]]:
    """Encode with x264 into fMP4: (init segment, one fragment per keyframe interval).

    The picture is a moving bar, or ``frames(t)`` (RGB of ``size``) when given.
    """
    splitter = FragmentSplitter()
    gop = str(round(fps * keyframe_s))
    with av.open(splitter, "w", format="mp4", options=FRAGMENTED_MP4) as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": gop, "keyint_min": gop, "preset": "ultrafast", "bf": "0"}
        stream.codec_context.time_base = Fraction(1, fps)
        for i in range(round(seconds * fps)):
            if frames is None:
                pixels = np.zeros((size[1], size[0], 3), np.uint8)
                pixels[:, (i * 4) % size[0] :][:, :10] = 255
            else:
                pixels = frames(i / fps)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    assert splitter.init is not None
    return splitter.init, splitter.drain()


def h264_file(path: Path, seconds: float, *, fps: int = 10) -> Path:
    """A plain MP4 file of x264 video (a moving bar), like an exported camera clip."""
    init, fragments = h264_fragments(seconds, fps=fps)
    path.write_bytes(init + b"".join(fragments))
    return path


def scene_video(path: Path, renderer: Renderer, seconds: float, *, fps: int = 10) -> Path:
    """An MP4 of a simulated camera's scene (people walking by), encoded with x264."""
    height, width = renderer.frame(0.0).shape[:2]
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "g": str(fps)}
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(renderer.frame(i / fps), format="rgb24")
            frame.pts = i
            stream.codec_context.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path
