"""The audit log's rows: entries (Merkle leaves), signed heads, the appenders' state,
records of changes committed and not yet in the tree, and the published transparency reports
made from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from vigil.store.models.base import Base, UTCDateTime


class RecordColumns:
    """What a caller's record holds, encoded (``vigil.audit.entry``): an entry's, and a
    staged record's until it becomes one."""

    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text)


class AuditRow(RecordColumns, Base):
    """One stored audit entry; ``seq`` is its leaf index in the Merkle tree."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_actor_seq", "actor", "seq"),
        Index("ix_audit_entries_action_seq", "action", "seq"),
        Index("ix_audit_entries_time_us", "time_us"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time_us: Mapped[int] = mapped_column(BigInteger)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHeadRow(Base):
    __tablename__ = "audit_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    time_us: Mapped[int] = mapped_column(BigInteger, unique=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class AuditStateRow(Base):
    """The single row that appenders lock: tree size, frontier and clocks."""

    __tablename__ = "audit_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    last_time_us: Mapped[int] = mapped_column(BigInteger)
    last_head_time_us: Mapped[int] = mapped_column(BigInteger)


class AuditPendingRow(RecordColumns, Base):
    """A change's record, committed with the change on PostgreSQL and moved into the tree
    (given its position) by the next append, in commit order of the moves."""

    __tablename__ = "audit_pending"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


class TransparencyReportRow(Base):
    """A month's transparency report, published for anyone: the signed JSON as made."""

    __tablename__ = "transparency_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM, the city's month
    report: Mapped[str] = mapped_column(Text)  # the signed report's JSON
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
