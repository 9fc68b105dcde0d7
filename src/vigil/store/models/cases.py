"""Investigations: cases, their scope and members, searches, results, notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime

OPEN_STATES = ("requested", "approved")  # a case's states while it is open


class CaseRow(Base):
    """An investigation: searches by photo run only inside one that another person approved.

    ``state``: requested, approved, rejected, closed, or sealed (an urgent case that was
    not approved in time, whose results were deleted).
    """

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_requested_by_requested_at", "requested_by", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    scope_start: Mapped[datetime] = mapped_column(UTCDateTime())
    scope_end: Mapped[datetime] = mapped_column(UTCDateTime())
    scope_groups: Mapped[str] = mapped_column(Text)  # JSON: the groups named, for the record
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    urgent: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    imports: Mapped[bool] = mapped_column(Boolean, server_default=false())  # files as evidence
    zones_seen: Mapped[str] = mapped_column(Text, server_default="[]")  # JSON: shown on approval


class CaseCamera(Base):
    """A camera in a case's scope (groups are resolved to their cameras when it opens)."""

    __tablename__ = "case_cameras"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), primary_key=True)


class CaseMember(Base):
    """Who may see a case's searches and reports: requester, approver, and those added."""

    __tablename__ = "case_members"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseSearch(Base):
    """One search by photo: who, when, over what, with which probes (their SHA-256)."""

    __tablename__ = "case_searches"
    __table_args__ = (
        Index("ix_case_searches_searched_by_started_at", "searched_by", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    searched_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    probes: Mapped[str] = mapped_column(Text)  # JSON list of the photos' SHA-256
    in_scope: Mapped[int] = mapped_column(Integer)  # sightings searched
    results: Mapped[int] = mapped_column(Integer)
    # A probe below the reference quality bar, used at the searcher's choice: its results
    # are weaker evidence and say so.
    weak_probe: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The embedder whose distances its results hold (``vigil.faces.descriptors``).
    embedder: Mapped[str] = mapped_column(String(32), server_default="dlib")


class CaseResult(Base):
    """A candidate a search returned; an investigator confirms it is the subject."""

    __tablename__ = "case_results"
    __table_args__ = (Index("ix_case_results_case_id_sighting_id", "case_id", "sighting_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    search_id: Mapped[int] = mapped_column(
        ForeignKey("case_searches.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    sighting_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("sightings.id"), index=True
    )
    probe: Mapped[int] = mapped_column(Integer)  # which photo of the search matched
    distance: Mapped[float] = mapped_column(Float)
    similarity: Mapped[float] = mapped_column(Float)
    estimated_fmr: Mapped[float | None] = mapped_column(Float, nullable=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Notice(Base):
    """Something supervisors and auditors should look at: a quota hit, an odd pattern."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
