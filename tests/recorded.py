"""Recorded segments made from real x264 output, written through the real segment writer."""

from __future__ import annotations

from functools import cache

from tests.conftest import Env
from tests.streams import h264_fragments
from vigil.cameras.registry import CameraSpec
from vigil.recording.index import Segment
from vigil.recording.segments import SegmentWriter

GOP_S = 1.0


@cache
def clip() -> tuple[bytes, list[bytes]]:
    return h264_fragments(4.0, keyframe_s=GOP_S)


def add_camera(env: Env, name: str, group: str | None = "city", url: str | None = None) -> int:
    spec = CameraSpec(name, url or f"rtsp://127.0.0.1:1/{name}", group=group)
    return env.services.cameras.add(env.local(), spec).id


def record(
    env: Env, camera_id: int, start: float, seconds: int, segment_s: float = 2.0
) -> list[Segment]:
    """Write `seconds` one-second fragments from epoch `start` on; returns the closed segments."""
    init, fragments = clip()
    writer = SegmentWriter(camera_id, env.services.media, env.services.segments, segment_s)
    writer.begin(init)
    closed = []
    for i in range(seconds):
        t = start + i * GOP_S
        done = writer.add(fragments[i % len(fragments)], t, t + GOP_S)
        if done is not None:
            closed.append(done)
    last = writer.finish()
    if last is not None:
        closed.append(last)
    return closed
