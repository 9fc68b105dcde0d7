"""Face analytics: sightings, watchlist entries and photos, alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime


class SightingRow(Base):
    """One tracked person: when and where, their best face crop and a few descriptors.

    ``embedding`` holds ``descriptors`` descriptors (little-endian float32, one after
    another) of different faces of the track; a probe's distance is to the nearest. Each
    is the vectors of the models ``embedding_models`` names ("dlib", "reid", "dlib+reid":
    ``vigil.faces.descriptors``), side by side.
    ``crop`` and ``embedding`` are biometric data: emptied when the sighting expires.
    A sighting from a recorded segment names it; re-analysing the segment replaces them.
    A sighting from an imported file belongs to the case it was imported into (``case_id``,
    with the file's SHA-256 and who imported it) and is seen inside that case alone.
    """

    __tablename__ = "sightings"
    __table_args__ = (
        Index("ix_sightings_camera_id_start", "camera_id", "start"),
        Index("ix_sightings_segment_id", "segment_id"),
        Index("ix_sightings_case_id", "case_id"),
        # What a case search filters and counts on, for rows still holding a descriptor:
        # counting a scope reads this index alone, not the rows' pages, and the vector
        # index's look for rows stored since its last (``id``) visits only those rows.
        Index(
            "ix_sightings_described",
            "camera_id",
            "start",
            "id",
            "case_id",
            "embedding_models",
            postgresql_where=text("embedding IS NOT NULL"),
            sqlite_where=text("embedding IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("segments.id", ondelete="SET NULL"), nullable=True
    )
    source: Mapped[str] = mapped_column(Text)  # "segment" or "import:<file name>"
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", name="fk_sightings_case_id_cases"), nullable=True
    )
    imported_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    imported_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    box: Mapped[str] = mapped_column(Text)  # JSON: left, top, right, bottom
    face_px: Mapped[int] = mapped_column(Integer)
    sharpness: Mapped[float] = mapped_column(Float)
    frontalness: Mapped[float] = mapped_column(Float)
    faces: Mapped[int] = mapped_column(Integer)
    descriptors: Mapped[int] = mapped_column(Integer, server_default="1")
    crop: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding_models: Mapped[str] = mapped_column(String(32), server_default="dlib")
    # Where each face of its track was (``analytics.paths``): what an export that shows
    # this person alone follows. None for sightings analysed before paths were kept.
    path: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchlistEntry(Base):
    """A person to look for, on a stated legal basis, until an expiry; approved by another."""

    __tablename__ = "watchlist_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WatchlistPhoto(Base):
    """A reference face of an entry: the face crop shown to reviewers and its descriptor."""

    __tablename__ = "watchlist_photos"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("watchlist_entries.id", ondelete="CASCADE"), index=True
    )
    crop: Mapped[bytes] = mapped_column(LargeBinary)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedding_models: Mapped[str] = mapped_column(String(32), server_default="dlib")
    sha256: Mapped[str] = mapped_column(String(64))  # of the uploaded photo


class AlertRow(Base):
    """A match of a sighting against an entry; actionable only once two people confirmed."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_state_created_at", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("watchlist_entries.id"), index=True)
    sighting_id: Mapped[int | None] = mapped_column(
        ForeignKey("sightings.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The end of the latest sighting merged into it (the same person, camera, entry).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    distance: Mapped[float] = mapped_column(Float)
    similarity: Mapped[float] = mapped_column(Float)
    estimated_fmr: Mapped[float | None] = mapped_column(Float, nullable=True)
    embedder: Mapped[str] = mapped_column(String(32), server_default="dlib")  # the distance's
    state: Mapped[str] = mapped_column(String(16))  # pending|confirmed|actionable|rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    second_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    second_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rejected_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlertSighting(Base):
    """A sighting an alert stands for: its first, and those merged into it since."""

    __tablename__ = "alert_sightings"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    sighting_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("sightings.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
