"""The audit log service: append inside the caller's transaction, sign heads, read, prove."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from vigil.audit.entry import AuditEntry, Outcome, canonical_bytes, canonical_json, encode_text
from vigil.audit.merkle import Frontier, consistency_path, inclusion_path, leaf_hash
from vigil.audit.signing import SigningKey, TreeHead, b64
from vigil.errors import InvalidInput, NotFound
from vigil.store.models import AuditHeadRow, AuditPendingRow, AuditRow, AuditStateRow

_ENTRIES = cast(Table, AuditRow.__table__)
_HEADS = cast(Table, AuditHeadRow.__table__)
_STATE = cast(Table, AuditStateRow.__table__)
_PENDING = cast(Table, AuditPendingRow.__table__)
MAX_PAGE = 1000
# Appenders queue on this row lock (PostgreSQL); SQLite's BEGIN IMMEDIATE does the same.
_LOCK_STATE = select(_STATE).where(_STATE.c.id == 1).with_for_update()
_TRY_LOCK_STATE = select(_STATE.c.id).where(_STATE.c.id == 1).with_for_update(skip_locked=True)


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Record:
    """What a caller asks to be recorded; strings are encoded before they are stored."""

    actor: str
    action: str
    target: str
    request_id: str
    outcome: Outcome = Outcome.ALLOWED
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EntryFilter:
    actor: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since_us: int | None = None
    until_us: int | None = None
    before_seq: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class InclusionProof:
    entry: AuditEntry
    leaf_hash: bytes
    path: list[bytes]
    head: TreeHead

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "inclusion",
            "index": self.entry.seq,
            "entry": self.entry.to_dict(),
            "entry_bytes": b64(self.entry.canonical_bytes()),
            "leaf_hash": b64(self.leaf_hash),
            "path": [b64(p) for p in self.path],
            "head": self.head.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: TreeHead
    new: TreeHead
    path: list[bytes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "consistency",
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "path": [b64(p) for p in self.path],
        }


def _row_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        time_us=row.time_us,
        actor=row.actor,
        action=row.action,
        target=row.target,
        outcome=Outcome(row.outcome),
        request_id=row.request_id,
        details_json=row.details,
    )


def _head(row: Any) -> TreeHead:
    return TreeHead(size=row.size, root=row.root, time_us=row.time_us, signature=row.signature)


class AuditLog:
    """Append-only log whose entries are the leaves of an RFC 9162 Merkle tree.

    Appends lock the single ``audit_state`` row, so entries get gap-free positions in commit
    order on every backend; the frontier stored there makes each append O(log n).
    """

    def __init__(self, key: SigningKey, *, head_interval_s: float = 1.0) -> None:
        self.key = key
        self._head_interval_us = int(head_interval_s * 1_000_000)

    def append(self, session: Session | Connection, record: Record) -> int:
        """Record one entry in the caller's transaction; returns its position."""
        return self.append_many(session, [record])[0]

    def stage(self, session: Session, record: Record) -> bool:
        """Record a change's entry in the change's transaction, durable with it.

        It is appended at once where the lock that orders the log is free (always on
        SQLite, whose writes run one at a time anyway). On PostgreSQL, while another
        transaction holds that lock, it is committed beside the change instead, without
        waiting (so concurrent changes commit together, not one at a time), and the next
        append moves it into the tree: True says the caller should see to one
        (``AuditWriter.drain``).
        """
        conn = session.connection()
        if conn.dialect.name != "postgresql" or conn.execute(_TRY_LOCK_STATE).first():
            self.append_many(conn, [record])  # nobody appending: in place, one commit
            return False
        conn.execute(insert(_PENDING), _encoded(record))
        return True

    def append_many(self, session: Session | Connection, records: Iterable[Record]) -> list[int]:
        """Record entries in the caller's transaction, after any staged ones (which this
        moves into the tree); returns the given records' positions."""
        # A session's own connection (same transaction) skips the ORM's per-statement cost.
        conn = session.connection() if isinstance(session, Session) else session
        state = conn.execute(_LOCK_STATE).one()
        frontier = Frontier.from_bytes(state.size, state.frontier)
        stamp = max(now_us(), state.last_time_us)
        staged = self._take_staged(conn)
        rows: list[dict[str, Any]] = []
        for fields in [*staged, *map(_encoded, records)]:
            row = {"seq": frontier.size, "time_us": stamp, **fields}
            row["leaf_hash"] = leaf_hash(canonical_bytes(**{k: row[k] for k in _HASHED}))
            frontier.append(row["leaf_hash"])
            rows.append(row)
        if not rows:
            return []
        conn.execute(insert(_ENTRIES), rows)
        values: dict[str, Any] = {
            "size": frontier.size,
            "frontier": frontier.to_bytes(),
            "last_time_us": stamp,
        }
        if stamp - state.last_head_time_us >= self._head_interval_us:
            values["last_head_time_us"] = self._insert_head(conn, frontier, state, stamp)
        conn.execute(update(_STATE).where(_STATE.c.id == 1).values(**values))
        return [row["seq"] for row in rows[len(staged) :]]

    @staticmethod
    def _take_staged(conn: Connection) -> list[dict[str, Any]]:
        """Staged entries, oldest first, deleted in this transaction: exactly those it
        returns (a change committing meanwhile stays for the next append). The lock on
        the state row keeps other appenders off them until this one commits."""
        if conn.dialect.name != "postgresql":
            return []
        taken = conn.execute(delete(_PENDING).returning(_PENDING)).all()
        return [{k: getattr(row, k) for k in _STAGED} for row in sorted(taken, key=_by_id)]

    def _insert_head(self, conn: Connection, frontier: Frontier, state: Any, newest: int) -> int:
        """Sign the tree as it stands; the head is never older than the entries it covers
        (verification relies on that) and always newer than the previous head."""
        head_time = max(now_us(), newest, int(state.last_head_time_us) + 1)
        head = self.key.sign(frontier.size, frontier.root(), head_time)
        conn.execute(
            insert(_HEADS).values(
                size=head.size, root=head.root, time_us=head.time_us, signature=head.signature
            )
        )
        return head_time

    def sign_head(self, session: Session) -> TreeHead:
        """The latest signed head, signing a new one first if entries were added since."""
        conn = session.connection()
        self.append_many(conn, [])  # staged changes first: the head covers them
        state = conn.execute(_LOCK_STATE).one()
        latest = self.latest_head(session)
        if latest is not None and latest.size == state.size:
            return latest
        frontier = Frontier.from_bytes(state.size, state.frontier)
        head_time = self._insert_head(conn, frontier, state, int(state.last_time_us))
        conn.execute(update(_STATE).where(_STATE.c.id == 1).values(last_head_time_us=head_time))
        head = self.latest_head(session)
        assert head is not None  # noqa: S101 - inserted just above in this transaction
        return head

    def latest_head(self, session: Session) -> TreeHead | None:
        row = session.execute(select(_HEADS).order_by(_HEADS.c.time_us.desc()).limit(1)).first()
        return None if row is None else _head(row)

    def head_at(self, session: Session, size: int) -> TreeHead:
        row = session.execute(
            select(_HEADS).where(_HEADS.c.size == size).order_by(_HEADS.c.time_us).limit(1)
        ).first()
        if row is None:
            raise NotFound(f"no signed tree head has size {size}", size=size)
        return _head(row)

    def size(self, session: Session) -> int:
        return int(session.execute(select(_STATE.c.size).where(_STATE.c.id == 1)).scalar_one())

    def entries(self, session: Session, flt: EntryFilter) -> list[AuditEntry]:
        if not 1 <= flt.limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        query = select(_ENTRIES).order_by(_ENTRIES.c.seq.desc()).limit(flt.limit)
        conditions = {
            _ENTRIES.c.actor: flt.actor,
            _ENTRIES.c.action: flt.action,
            _ENTRIES.c.outcome: None if flt.outcome is None else str(flt.outcome),
        }
        for column, value in conditions.items():
            if value is not None:
                query = query.where(column == value)
        if flt.since_us is not None:
            query = query.where(_ENTRIES.c.time_us >= flt.since_us)
        if flt.until_us is not None:
            query = query.where(_ENTRIES.c.time_us < flt.until_us)
        if flt.before_seq is not None:
            query = query.where(_ENTRIES.c.seq < flt.before_seq)
        return [_row_entry(row) for row in session.execute(query)]

    def entry(self, session: Session, seq: int) -> AuditEntry:
        row = session.execute(select(_ENTRIES).where(_ENTRIES.c.seq == seq)).first()
        if row is None:
            raise NotFound(f"audit entry {seq} does not exist", seq=seq)
        return _row_entry(row)

    def _leaves(self, session: Session, size: int) -> list[bytes]:
        query = select(_ENTRIES.c.leaf_hash).where(_ENTRIES.c.seq < size).order_by(_ENTRIES.c.seq)
        return list(session.execute(query).scalars())

    def inclusion_proof(
        self, session: Session, seq: int, size: int | None = None
    ) -> InclusionProof:
        """Proof that entry ``seq`` is in the signed head of ``size`` (default: the latest)."""
        head = self.sign_head(session) if size is None else self.head_at(session, size)
        if not 0 <= seq < head.size:
            raise InvalidInput(f"entry {seq} is not covered by the head of size {head.size}")
        leaves = self._leaves(session, head.size)
        return InclusionProof(
            entry=self.entry(session, seq),
            leaf_hash=leaves[seq],
            path=inclusion_path(seq, leaves),
            head=head,
        )

    def consistency_proof(self, session: Session, old_size: int, new_size: int) -> ConsistencyProof:
        """Proof that the signed head of ``new_size`` extends that of ``old_size``."""
        if old_size > new_size:
            raise InvalidInput(f"old size {old_size} is larger than new size {new_size}")
        old, new = self.head_at(session, old_size), self.head_at(session, new_size)
        path = consistency_path(old_size, self._leaves(session, new_size))
        return ConsistencyProof(old=old, new=new, path=path)


_STAGED = ("actor", "action", "target", "outcome", "request_id", "details")
_HASHED = ("seq", "time_us", *_STAGED)


def _by_id(row: Any) -> int:
    return int(row.id)


def _encoded(record: Record) -> dict[str, Any]:
    return {
        "actor": encode_text(record.actor),
        "action": encode_text(record.action),
        "target": encode_text(record.target),
        "outcome": str(record.outcome),
        "request_id": encode_text(record.request_id),
        "details": canonical_json(dict(record.details)),
    }
