"""Audit entries and their canonical bytes, the leaves of the Merkle tree."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

ENTRY_VERSION = 1
MAX_FIELD_CHARS = 512


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


def encode_text(value: str) -> str:
    """Make a user-supplied string safe to store as one log field.

    Control, format and separator characters (newlines, ANSI escapes, bidi overrides...)
    become visible ``\\uXXXX`` escapes and backslashes are doubled, so a value can never
    start a new line or change what a reader of the log sees. Over-long values are cut.
    """
    # isprintable() is False exactly for the C* and Z* categories other than the space.
    if len(value) <= MAX_FIELD_CHARS and value.isprintable() and "\\" not in value:
        return value
    out: list[str] = []
    for ch in value[:MAX_FIELD_CHARS]:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch)[0] in "CZ" and ch != " ":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    if len(value) > MAX_FIELD_CHARS:
        out.append(f"...[{len(value) - MAX_FIELD_CHARS} more chars]")
    return "".join(out)


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, ASCII only (every control char escaped)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def time_us_to_iso(time_us: int) -> str:
    return datetime.fromtimestamp(time_us / 1_000_000, tz=UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit record as stored: ``seq`` is its leaf index in the tree."""

    seq: int
    time_us: int
    actor: str
    action: str
    target: str
    outcome: Outcome
    request_id: str
    details_json: str

    def __post_init__(self) -> None:
        if self.seq < 0 or self.time_us < 0:
            raise ValueError("seq and time must be non-negative")

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(
            self.seq,
            self.time_us,
            self.actor,
            self.action,
            self.target,
            str(self.outcome),
            self.request_id,
            self.details_json,
        )

    @property
    def details(self) -> Any:
        return json.loads(self.details_json)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": time_us_to_iso(self.time_us),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": str(self.outcome),
            "request_id": self.request_id,
            "details": self.details,
        }


def canonical_bytes(
    seq: int,
    time_us: int,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    request_id: str,
    details: str,
) -> bytes:
    """The bytes that are hashed into the tree: every stored field, the position included.

    Taking the raw stored columns (not a parsed entry) lets verification notice a change to
    any byte of any column, including one that would not survive parsing.
    """
    head = canonical_json([ENTRY_VERSION, seq, time_us, actor, action, target, outcome, request_id])
    return (head[:-1] + "," + details + "]").encode("utf-8", "surrogatepass")
