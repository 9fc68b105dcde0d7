"""Recorded segments of real footage with faces, written through the real segment writer."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Env
from vigil.publishing.render import FragmentEncoder
from vigil.recording.playback import recorded_pictures
from vigil.recording.records import Segment
from vigil.recording.segments import SegmentWriter

HAMILTON = Path("video") / "face_recognition" / "short_hamilton_clip.mp4"  # faces, 640x360


def record_clip(
    env: Env, camera_id: int, clip: Path, start: float, *, fps: int = 15, segment_s: float = 4.0
) -> list[Segment]:
    """The clip as the camera's recording from epoch ``start``: H.264, a keyframe a second,
    unredacted (the encoder is the public path's, fed the camera's own frames)."""
    encoder = FragmentEncoder(fps)
    fragments = []
    for picture in recorded_pictures(clip, start, fps):
        fragments += encoder.encode(picture)
    fragments += encoder.close()
    closed: list[Segment] = []  # as indexed, in order
    writer = SegmentWriter(
        camera_id, env.services.media, env.services.segments, segment_s, closed.append
    )
    assert encoder.init is not None
    writer.begin(encoder.init)
    for i, (at, data) in enumerate(fragments):
        end = fragments[i + 1][0] if i + 1 < len(fragments) else at + 1.0
        writer.add(data, at, end)
    writer.finish()
    assert writer.flush(30.0)
    assert not writer.unindexed
    return closed
