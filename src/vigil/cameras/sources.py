"""Opening camera streams with PyAV: RTSP over TCP, HTTP(S) (MJPEG, HLS) and local files."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import av
from av.container import InputContainer

from vigil.errors import VigilError


class SourceError(VigilError, ConnectionError):
    """A stream could not be opened or read; the supervisor retries with backoff."""

    code = "source_error"
    http_status = 502


@dataclass(frozen=True, slots=True)
class Timeouts:
    open_s: float = 10.0
    read_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Source:
    container: InputContainer
    paced: bool  # a file: read at its own frame rate, as a camera would send it


def open_source(url: str, timeouts: Timeouts) -> Source:
    parts = urlsplit(url)
    # Recording copies the stream and needs no frame-rate estimate: without it, opening
    # takes one keyframe instead of about three seconds of probing (measured on the
    # simulator: 2.9 s -> 0.9 s), and a camera that comes back is recorded that much sooner.
    options: dict[str, str] = {"fpsprobesize": "0"}
    target = url
    if parts.scheme in ("rtsp", "rtsps"):
        options["rtsp_transport"] = "tcp"
    elif parts.scheme == "file":
        target = unquote(parts.path)
    began = time.monotonic()
    try:
        container = av.open(target, options=options, timeout=(timeouts.open_s, timeouts.read_s))
    except (av.FFmpegError, OSError) as exc:
        if time.monotonic() - began >= timeouts.open_s:
            raise SourceError(
                f"cannot open the stream: no answer within {timeouts.open_s:g} s"
            ) from None
        raise SourceError(f"cannot open the stream: {_reason(exc)}") from None
    if not container.streams.video:
        container.close()
        raise SourceError("the stream has no video")
    return Source(container=container, paced=parts.scheme == "file")


def _reason(exc: BaseException) -> str:
    """The error without the URL, which may carry credentials."""
    if isinstance(exc, av.FFmpegError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
