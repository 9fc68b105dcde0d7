"""Crowds without identification: people counts, events with limits, occupancy alerts, and
zones where no face is analysed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime


class PeopleCount(Base):
    """How many people a camera showed at a moment: a number, nothing about anyone."""

    __tablename__ = "people_counts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    segment_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    people: Mapped[int] = mapped_column(Integer)


class EventRow(Base):
    """A camera group watched over a time window, with occupancy limits."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("camera_groups.id", ondelete="CASCADE"))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    total_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EventLimit(Base):
    __tablename__ = "event_limits"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    people: Mapped[int] = mapped_column(Integer)


class OccupancyAlertRow(Base):
    """A place went over its limit: the place and the number, never a person."""

    __tablename__ = "occupancy_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the whole event
    place: Mapped[str] = mapped_column(String(200))
    people: Mapped[int] = mapped_column(Integer)
    limit: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class NoIdZoneRow(Base):
    """Cameras of a group, over a period, where no face is detected, kept or searched:
    marked by two people, lifted by two people."""

    __tablename__ = "no_id_zones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("camera_groups.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # None: open
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lift_proposed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lift_proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
