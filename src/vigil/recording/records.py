"""What the segment index hands out: segments, recording gaps, camera health, a recorder's
disk; plain values, free of the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.recording.media import MAIN

# A camera whose last saved frame is older than this is not streaming (whatever its state:
# the recorder may have been killed).
STREAMING_FRESH_S = 10.0


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    camera_id: int
    start: datetime
    end: datetime
    bytes: int
    sha256: str
    path: str
    node: str | None = None  # the cluster node that recorded it; none when embedded
    stream: str = MAIN  # the recording, or the camera's analysis stream

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "seconds": round(self.seconds, 3),
            "bytes": self.bytes,
            "sha256": self.sha256,
        }


@dataclass(frozen=True, slots=True)
class Gap:
    start: datetime
    end: datetime | None  # None: still going on
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Health:
    camera_id: int
    state: str  # connecting | online | offline | disk_full | stopped
    last_frame_at: datetime | None
    fps: float
    bitrate_bps: float
    reconnects: int
    error: str | None
    updated_at: datetime

    def streaming(self, now: datetime) -> bool:
        """Frames arriving now, as the recorder last saved (every 2 s): the same answer in
        any process that asks, the recorder's own or not."""
        return (
            self.state in ("online", "disk_full")
            and self.last_frame_at is not None
            and (now - self.last_frame_at).total_seconds() <= STREAMING_FRESH_S
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "last_frame_at": None if self.last_frame_at is None else self.last_frame_at.isoformat(),
            "fps": round(self.fps, 2),
            "bitrate_bps": round(self.bitrate_bps),
            "reconnects": self.reconnects,
            "error": self.error,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Storage:
    """A recorder's media disk: ``disk_pressure`` when retention cannot make enough room."""

    node: str
    state: str  # ok | disk_pressure
    detail: str | None
    free_bytes: int
    recorded_bytes: int
    wanted_free_bytes: int
    write_bps: float
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "state": self.state,
            "detail": self.detail,
            "free_bytes": self.free_bytes,
            "recorded_bytes": self.recorded_bytes,
            "wanted_free_bytes": self.wanted_free_bytes,
            "write_bps": round(self.write_bps),
            "updated_at": self.updated_at.isoformat(),
        }
