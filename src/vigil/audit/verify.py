"""Full verification of the stored audit log against its own hashes and its signed heads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Table, select

from vigil.audit.entry import canonical_bytes
from vigil.audit.merkle import Frontier, leaf_hash
from vigil.audit.signing import TreeHead, verify_head
from vigil.errors import ProofError
from vigil.store.models import AuditHeadRow, AuditRow, AuditStateRow

_ENTRIES = cast(Table, AuditRow.__table__)
_HEADS = cast(Table, AuditHeadRow.__table__)
_STATE = cast(Table, AuditStateRow.__table__)
_BATCH = 20_000


@dataclass(slots=True)
class VerifyReport:
    """``first_bad_seq`` names the first entry that cannot be trusted, if any."""

    entries: int = 0
    heads: int = 0
    covered: int = 0
    first_bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)
    latest_head: TreeHead | None = None
    _first_problem: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> str | None:
        """The problem that names the first bad entry (else the first found)."""
        return self._first_problem or (self.problems[0] if self.problems else None)

    def fail(self, problem: str, seq: int | None = None) -> None:
        self.problems.append(problem)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq
            self._first_problem = problem

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "signed_heads": self.heads,
            "covered_by_signed_head": self.covered,
            "first_bad_entry": self.first_bad_seq,
            "problems": self.problems,
            "latest_head": None if self.latest_head is None else self.latest_head.to_dict(),
        }


def _load_heads(conn: Connection, key: Ed25519PublicKey, report: VerifyReport) -> list[TreeHead]:
    heads: list[TreeHead] = []
    for row in conn.execute(select(_HEADS).order_by(_HEADS.c.time_us)):
        head = TreeHead(size=row.size, root=row.root, time_us=row.time_us, signature=row.signature)
        try:
            verify_head(head, key)
        except ProofError as exc:
            report.fail(f"signed head #{row.id}: {exc.message}", seq=None)
            continue
        if heads and head.size < heads[-1].size:
            report.fail(
                f"signed head #{row.id} of size {head.size} is smaller than an earlier head "
                f"of size {heads[-1].size}: the log was cut and grew again",
                seq=head.size,
            )
        heads.append(head)
    report.heads = len(heads)
    report.latest_head = heads[-1] if heads else None
    return heads


def verify_log(conn: Connection, key: Ed25519PublicKey) -> VerifyReport:
    """Recompute every leaf and the tree root at every signed head, streaming the entries.

    Catches a changed byte in any column, deleted, swapped or inserted entries, a log
    truncated below a signed head, and forged or reordered heads.
    """
    report = VerifyReport()
    heads = _load_heads(conn, key, report)
    by_size: dict[int, list[TreeHead]] = defaultdict(list)
    for head in heads:
        by_size[head.size].append(head)
    frontier, last_time, trusted = Frontier(), 0, 0
    for head in by_size.pop(0, []):
        _check_root(head, frontier, 0, report)
    deadlines = _deadlines(heads)
    rows = conn.execution_options(yield_per=_BATCH).execute(select(_ENTRIES).order_by("seq"))
    for row in rows:
        seq = frontier.size
        if row.seq != seq:
            what = "missing (deleted)" if row.seq > seq else "duplicated"
            report.fail(f"entry {seq}: {what}; found entry {row.seq} in its place", seq=seq)
            break
        computed = leaf_hash(
            canonical_bytes(
                row.seq,
                row.time_us,
                row.actor,
                row.action,
                row.target,
                row.outcome,
                row.request_id,
                row.details,
            )
        )
        if computed != row.leaf_hash:
            report.fail(f"entry {seq}: content does not match its recorded hash", seq=seq)
            break
        if row.time_us < last_time:
            report.fail(f"entry {seq}: time goes backwards (entries reordered?)", seq=seq)
            break
        while deadlines and deadlines[0][0] <= seq:
            deadlines.pop(0)
        if deadlines and row.time_us > deadlines[0][1]:
            report.fail(
                f"entry {seq}: written after a signed head already covered position {seq}; "
                "the log was rewritten from here",
                seq=seq,
            )
            break
        last_time = row.time_us
        frontier.append(computed)
        matched = [_check_root(h, frontier, trusted, report) for h in by_size.pop(seq + 1, [])]
        if not all(matched):
            break
        if matched:
            trusted = frontier.size
    rows.close()
    report.entries = frontier.size
    report.covered = trusted
    _check_tail(conn, frontier, by_size, report)
    return report


def _deadlines(heads: list[TreeHead]) -> list[tuple[int, int]]:
    """(size, time) steps: an entry at position s must be no newer than every head with size > s.

    Returned by increasing size, each with the earliest time of all heads at least that large,
    so a pointer that drops sizes <= s always finds the binding deadline first.
    """
    steps: list[tuple[int, int]] = []
    earliest = None
    for head in sorted(heads, key=lambda h: h.size, reverse=True):
        earliest = head.time_us if earliest is None else min(earliest, head.time_us)
        steps.append((head.size, earliest))
    steps.reverse()
    return steps


def _check_root(head: TreeHead, frontier: Frontier, trusted: int, report: VerifyReport) -> bool:
    if head.root == frontier.root():
        return True
    report.fail(
        f"signed head of size {head.size} does not match the stored entries: "
        f"entries {trusted}..{head.size - 1} were altered after it was signed",
        seq=trusted,
    )
    return False


def _check_tail(
    conn: Connection,
    frontier: Frontier,
    by_size: dict[int, list[TreeHead]],
    report: VerifyReport,
) -> None:
    if report.first_bad_seq is not None:
        return
    if by_size:
        size = max(by_size)
        report.fail(
            f"log truncated: a signed head covers {size} entries but only "
            f"{frontier.size} are stored",
            seq=frontier.size,
        )
        return
    state = conn.execute(select(_STATE).where(_STATE.c.id == 1)).one()
    if state.size != frontier.size or state.frontier != frontier.to_bytes():
        report.fail(
            f"the log's own state records {state.size} entries, {frontier.size} are stored",
            seq=min(state.size, frontier.size),
        )
