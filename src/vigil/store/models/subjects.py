"""The requests of people on camera: what is held about them (vigil.subjects)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime


class SubjectRequestRow(Base):
    """A person's request to learn what is held about them, taken by a data-protection
    officer after an identity check and approved by another person.

    ``state``: requested, rejected, comparing (approved, its search under way), answered
    (searched; its report can be read), erased.
    The probe descriptors are kept only until the request is answered or rejected.
    """

    __tablename__ = "subject_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200))  # the DPO's file reference
    identity_checked_by: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    probes: Mapped[str] = mapped_column(Text)  # JSON: SHA-256 of the requester's photos
    embedder: Mapped[str] = mapped_column(String(32))
    descriptors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Recorded by the approver: the watchlist part of the report then says only that one
    # applies (Art. 15(4), LED Art. 15).
    restriction: Mapped[str | None] = mapped_column(Text, nullable=True)
    searched: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # sightings compared
    # JSON: the watchlist entries whose reference photos are the requester's face.
    watchlist: Mapped[str] = mapped_column(Text, server_default="[]")
    erased_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SubjectMatch(Base):
    """A sighting that a request's search found the requester in: within the match point
    (``match``), or only possible beyond it, for a person to judge."""

    __tablename__ = "subject_matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("subject_requests.id", ondelete="CASCADE"), index=True
    )
    sighting_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("sightings.id", ondelete="CASCADE"),
        index=True,
    )
    distance: Mapped[float] = mapped_column(Float)
    estimated_fmr: Mapped[float] = mapped_column(Float)
    match: Mapped[bool] = mapped_column(Boolean, server_default=true())
    kept: Mapped[str | None] = mapped_column(Text, nullable=True)  # why erasure kept it
    # A person's judgement, before the answer: "confirmed" (the requester) or "rejected".
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
