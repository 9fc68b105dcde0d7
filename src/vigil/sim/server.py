"""Serves the simulated cameras as H.264 over RTSP with GStreamer's rtsp-server.

Each camera is one shared media: frames drawn in Python are pushed into an ``appsrc`` and
encoded by x264, so every client of a camera sees the same stream.
"""

from __future__ import annotations

import functools
import logging
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from vigil.errors import VigilError
from vigil.sim.scenario import Renderer, Scenario

logger = logging.getLogger(__name__)


class SimulatorError(VigilError):
    code = "simulator_error"
    exit_code = 9


@dataclass(frozen=True, slots=True)
class StreamFormat:
    width: int = 640
    height: int = 360
    fps: int = 10
    keyframe_s: float = 1.0  # keyframe interval: bounds live latency and segment cuts

    @property
    def bitrate_kbps(self) -> int:
        return max(200, self.width * self.height * self.fps // 2000)


def wait_until_serving(port: int, *, timeout_s: float = 30.0, process: Any = None) -> None:
    """Wait until something listens on 127.0.0.1:port (a simulator starting up).

    With ``process`` (a Popen), its early exit is reported at once instead of waiting.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SimulatorError(f"the server process exited (code {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SimulatorError(f"nothing listens on port {port} after {timeout_s:.0f} s")


@functools.cache
def gst_modules() -> tuple[Any, Any, Any]:
    """GStreamer's Python bindings, loaded only when serving (they need Debian packages)."""
    try:
        import gi  # noqa: PLC0415

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer  # noqa: PLC0415
    except (ImportError, ValueError) as exc:
        raise SimulatorError(
            f"the simulator needs GStreamer's RTSP server (scripts/setup installs it): {exc}"
        ) from exc
    Gst.init(None)
    return GLib, Gst, GstRtspServer


class Feed:
    """One camera's stream: a thread pushes its buffers to every live media of its mount
    (the ``appsrc`` named ``src`` of ``launch``, a GStreamer pipeline description)."""

    launch: str

    def __init__(self, gst: Any, name: str) -> None:
        self.gst = gst
        self._sources: list[Any] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sim-{name}", daemon=True)

    def attach(self, source: Any) -> None:
        with self._lock:
            self._sources.append(source)

    def detach(self, source: Any) -> None:
        with self._lock:
            if source in self._sources:
                self._sources.remove(source)

    def sources(self) -> list[Any]:
        with self._lock:
            return list(self._sources)

    def push(self, source: Any, data: bytes) -> None:
        source.emit("push-buffer", self.gst.Buffer.new_wrapped(data))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        raise NotImplementedError


class CameraFeed(Feed):
    """Draws one camera's frames at its frame rate; x264 encodes them for each media."""

    def __init__(self, gst: Any, renderer: Renderer, fmt: StreamFormat, started: float) -> None:
        super().__init__(gst, renderer.camera)
        self.renderer = renderer
        self.fmt = fmt
        self.started = started
        self.launch = _launch(fmt)

    def _run(self) -> None:
        interval = 1.0 / self.fmt.fps
        next_at = time.monotonic()
        while not self._stop.is_set():
            sources = self.sources()
            if sources:
                t = time.time() - self.started
                data = self.renderer.frame(t).tobytes()
                for source in sources:
                    self.push(source, data)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < -1.0:  # fell far behind (machine busy): skip frames, keep wall time
                next_at = time.monotonic()
            self._stop.wait(max(0.0, delay))


def _launch(fmt: StreamFormat) -> str:
    key_int = max(1, round(fmt.fps * fmt.keyframe_s))
    return (
        "( appsrc name=src is-live=true do-timestamp=true format=time "
        f"caps=video/x-raw,format=RGB,width={fmt.width},height={fmt.height},"
        f"framerate={fmt.fps}/1 "
        "! queue max-size-buffers=4 leaky=downstream ! videoconvert "
        "! x264enc tune=zerolatency speed-preset=ultrafast "
        f"key-int-max={key_int} bitrate={fmt.bitrate_kbps} "
        "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


class SimServer:
    """An RTSP server with one mount per feed: rtsp://HOST:PORT/<camera>."""

    def __init__(
        self, feeds: dict[str, Feed], *, host: str = "127.0.0.1", port: int = 8554
    ) -> None:
        self.feeds = feeds
        self.host = host
        self.port = port
        self._loop: Any = None

    @classmethod
    def simulated(
        cls, scenario: Scenario, fmt: StreamFormat, *, host: str = "127.0.0.1", port: int = 8554
    ) -> SimServer:
        """The scenario's cameras, drawn and encoded live."""
        gst = gst_modules()[1]
        started = scenario.started_at.timestamp()
        feeds: dict[str, Feed] = {
            camera: CameraFeed(gst, Renderer(scenario, camera), fmt, started)
            for camera in scenario.cameras
        }
        return cls(feeds, host=host, port=port)

    def url(self, camera: str) -> str:
        return f"rtsp://{self.host}:{self.port}/{camera}"

    def start(self) -> None:
        glib, _gst, rtsp = gst_modules()
        server = rtsp.RTSPServer()
        server.set_address(self.host)
        server.set_service(str(self.port))
        # Medias are prepared in threads of their own: clients of many cameras at once are
        # not answered one after another.
        server.get_thread_pool().set_max_threads(max(2, len(self.feeds)))
        mounts = server.get_mount_points()
        for camera, feed in self.feeds.items():
            factory = rtsp.RTSPMediaFactory()
            factory.set_launch(feed.launch)
            factory.set_shared(True)
            factory.connect("media-configure", self._configure, feed)
            mounts.add_factory(f"/{camera}", factory)
            feed.start()
        if server.attach(None) == 0:
            raise SimulatorError(f"cannot listen on {self.host}:{self.port} (port in use?)")
        self._loop = glib.MainLoop()

    def _configure(self, _factory: Any, media: Any, feed: Feed) -> None:
        source = media.get_element().get_child_by_name("src")
        feed.attach(source)
        media.connect("unprepared", lambda _media: feed.detach(source))

    def run(self, *, duration_s: float | None = None, on_tick: Any = None) -> None:
        """Serve until SIGINT/SIGTERM, stop() or the duration ends; on_tick runs every 10 s."""
        glib = gst_modules()[0]
        for signum in (signal.SIGINT, signal.SIGTERM):
            glib.unix_signal_add(glib.PRIORITY_DEFAULT, signum, self._quit)
        if duration_s is not None:
            glib.timeout_add(int(duration_s * 1000), self._quit)
        if on_tick is not None:
            glib.timeout_add_seconds(10, lambda: on_tick() or True)
        self._loop.run()
        self.stop()

    def _quit(self) -> bool:
        self._loop.quit()
        return False

    def stop(self) -> None:
        for feed in self.feeds.values():
            feed.stop()
        if self._loop is not None:
            self._loop.quit()
