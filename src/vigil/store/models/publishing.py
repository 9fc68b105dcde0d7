"""Publishing: cameras broadcast to the public, each by two people's decision."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime


class PublicationRow(Base):
    """A proposal to broadcast a camera to the public: live once a second person approves
    it, over once either of them (or anyone allowed) withdraws it."""

    __tablename__ = "camera_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(255))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PublicViewing(Base):
    """How much the public watched a camera on a day (UTC): streams opened and seconds of
    video sent. Counts only: no address, no session, nothing that tells viewers apart."""

    __tablename__ = "public_viewing"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    streams: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)
