"""Recorded segments made from real x264 output, written through the real segment writer."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

from tests.conftest import Env
from tests.streams import h264_fragments
from vigil.cameras.registry import CameraSpec
from vigil.config import RecordingConfig
from vigil.recording.recorder import Recorder
from vigil.recording.records import Segment
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
    closed: list[Segment] = []  # as indexed, in order
    writer = SegmentWriter(
        camera_id, env.services.media, env.services.segments, segment_s, closed.append
    )
    writer.begin(init)
    for i in range(seconds):
        t = start + i * GOP_S
        writer.add(fragments[i % len(fragments)], t, t + GOP_S)
    writer.finish()
    assert writer.flush(30.0)
    assert not writer.unindexed
    return closed


def make_recorder(
    env: Env, on_segment: Callable[[Segment], None] | None = None, **settings: object
) -> Recorder:
    """A recorder of env's cameras with short segments and a quick reconnect."""
    s = env.services
    config = RecordingConfig.model_validate(
        {"min_free_bytes": 0, "segment_s": 2.0, "backoff_max_s": 1.0, **settings}
    )
    return Recorder(s.access, s.cameras, s.segments, s.media, s.live, config, on_segment)


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError("condition not met in time")
