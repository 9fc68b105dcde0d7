"""Recording: segments on disk, gaps, camera health, the media disk, evidence holds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime


class SegmentRow(Base):
    """One recorded media segment: a complete fMP4 file under the media root."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_camera_id_start", "camera_id", "start"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text, unique=True)  # relative to the media root
    # When face analysis of this segment finished; empty while it waits (the backlog).
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    # Failed analyses so far; after the last allowed one the segment is given up on
    # (analysed_at set, the error kept) until someone re-analyses it.
    analysis_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    analysis_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    frames_failed: Mapped[int] = mapped_column(Integer, server_default="0")  # skipped, logged
    # The frames a second it was analysed at when analysis was behind and lowered its
    # camera's rate (back-pressure); empty at the camera's own rate.
    lowered_fps: Mapped[float | None] = mapped_column(Float, nullable=True)
    # "main": the recording (played, exported, held); "analysis": the camera's analysis
    # stream, kept until analysed and a few minutes more, never played.
    stream: Mapped[str] = mapped_column(String(16), server_default="main", default="main")
    # The cluster node that recorded it and serves its bytes; empty in the embedded mode.
    node: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)


class RecordingGap(Base):
    """A time the camera was not recorded; ``end`` is empty while the gap lasts."""

    __tablename__ = "recording_gaps"
    __table_args__ = (Index("ix_recording_gaps_camera_id_start", "camera_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(Text)


class CameraHealth(Base):
    """The recorder's latest view of a camera, for anyone allowed to see the camera."""

    __tablename__ = "camera_health"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fps: Mapped[float] = mapped_column(Float)
    bitrate_bps: Mapped[float] = mapped_column(Float)
    reconnects: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StorageState(Base):
    """A recorder's latest view of its media disk: ``disk_pressure`` when retention may not
    delete enough (all that is left is each camera's newest footage or under holds)."""

    __tablename__ = "storage_state"

    node: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # ok | disk_pressure
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    free_bytes: Mapped[int] = mapped_column(BigInteger)
    recorded_bytes: Mapped[int] = mapped_column(BigInteger)
    wanted_free_bytes: Mapped[int] = mapped_column(BigInteger)
    write_bps: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClusterNode(Base):
    """An ingest node of a cluster: where workers and API nodes read its segments."""

    __tablename__ = "cluster_nodes"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(Text)  # its internal endpoint
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvidenceHold(Base):
    """A time range of a camera that retention must keep until the hold is released."""

    __tablename__ = "evidence_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
