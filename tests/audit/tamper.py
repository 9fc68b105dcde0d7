"""What an attacker with write access to the database does to the audit log."""

from __future__ import annotations

from sqlalchemy import Connection, text

from vigil.audit.entry import canonical_bytes
from vigil.audit.merkle import Frontier, leaf_hash
from vigil.store.db import Database

COLUMNS = ("seq", "time_us", "actor", "action", "target", "outcome", "request_id", "details")


def drop_guards(conn: Connection) -> None:
    """The append-only triggers are the first thing an attacker with owner rights removes."""
    if conn.dialect.name == "sqlite":
        for table in ("audit_entries", "audit_heads"):
            for op in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only_{op}"))
    else:
        conn.execute(text("DROP FUNCTION vigil_append_only() CASCADE"))


def rows(conn: Connection) -> list[dict[str, object]]:
    columns = ", ".join(COLUMNS)
    result = conn.execute(text(f"SELECT {columns} FROM audit_entries ORDER BY seq"))  # noqa: S608
    return [dict(r._mapping) for r in result]


def rewrite(conn: Connection, entries: list[dict[str, object]]) -> None:
    """Replace the whole log with ``entries``, recomputing every hash and the state row.

    This is the strongest forgery possible without the signing key.
    """
    conn.execute(text("DELETE FROM audit_entries"))
    frontier = Frontier()
    for seq, entry in enumerate(entries):
        values = {**entry, "seq": seq}
        values["leaf_hash"] = leaf_hash(canonical_bytes(**{c: values[c] for c in COLUMNS}))
        frontier.append(values["leaf_hash"])  # type: ignore[arg-type]
        conn.execute(
            text(
                "INSERT INTO audit_entries (seq, time_us, actor, action, target, outcome, "
                "request_id, details, leaf_hash) VALUES (:seq, :time_us, :actor, :action, "
                ":target, :outcome, :request_id, :details, :leaf_hash)"
            ),
            values,
        )
    conn.execute(
        text("UPDATE audit_state SET size = :size, frontier = :frontier"),
        {"size": frontier.size, "frontier": frontier.to_bytes()},
    )


def tamper(db: Database, how: str, seq: int) -> None:
    with db.engine.begin() as conn:
        drop_guards(conn)
        _TAMPER[how](conn, seq)


def _flip_column(column: str):  # type: ignore[no-untyped-def]
    def change(conn: Connection, seq: int) -> None:
        if column == "time_us":
            expr = "time_us + 1"
        elif column == "leaf_hash":
            conn.execute(
                text("UPDATE audit_entries SET leaf_hash = :h WHERE seq = :s"),
                {"h": bytes(32), "s": seq},
            )
            return
        else:
            # One character changed: the first becomes '#' (or 'Z' if it already was '#').
            expr = (
                f"CASE WHEN substr({column}, 1, 1) = '#' THEN 'Z' ELSE '#' END "
                f"|| substr({column}, 2)"
            )
        statement = f"UPDATE audit_entries SET {column} = {expr} WHERE seq = :s"  # noqa: S608
        conn.execute(text(statement), {"s": seq})

    return change


def _delete(conn: Connection, seq: int) -> None:
    conn.execute(text("DELETE FROM audit_entries WHERE seq = :s"), {"s": seq})


def _swap(conn: Connection, seq: int) -> None:
    """Rows seq and seq+1 trade places, each keeping its own recorded hash."""
    conn.execute(text("UPDATE audit_entries SET seq = -1 WHERE seq = :s"), {"s": seq})
    conn.execute(text("UPDATE audit_entries SET seq = :s WHERE seq = :n"), {"s": seq, "n": seq + 1})
    conn.execute(text("UPDATE audit_entries SET seq = :n WHERE seq = -1"), {"n": seq + 1})


def _swap_and_rehash(conn: Connection, seq: int) -> None:
    entries = rows(conn)
    entries[seq], entries[seq + 1] = entries[seq + 1], entries[seq]
    entries[seq]["time_us"] = entries[seq + 1]["time_us"]
    rewrite(conn, entries)


def _insert(conn: Connection, seq: int) -> None:
    entries = rows(conn)
    forged = {**entries[seq], "actor": "nobody", "action": "user.list"}
    rewrite(conn, [*entries[:seq], forged, *entries[seq:]])


def _delete_and_rehash(conn: Connection, seq: int) -> None:
    entries = rows(conn)
    rewrite(conn, [*entries[:seq], *entries[seq + 1 :]])


def _truncate(conn: Connection, seq: int) -> None:
    """Drop every entry from ``seq`` on and fix up the state row to match."""
    rewrite(conn, rows(conn)[:seq])


_TAMPER = {
    **{f"byte:{c}": _flip_column(c) for c in (*COLUMNS[1:], "leaf_hash")},
    "delete": _delete,
    "delete+rehash": _delete_and_rehash,
    "swap": _swap,
    "swap+rehash": _swap_and_rehash,
    "insert+rehash": _insert,
    "truncate": _truncate,
}
TAMPERINGS = sorted(_TAMPER)
