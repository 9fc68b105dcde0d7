"""PostgreSQL connections: one closed while idle in the pool (a server restart, a failover)
is replaced before a caller's transaction uses it; one in use a moment ago is not pinged."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from vigil.store import db as store_db
from vigil.store.db import Database

pytestmark = pytest.mark.postgres


def _backend(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_closed_while_idle_is_replaced_before_use(
    postgres_url: str, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_db, "PING_IDLE_S", 0.2)
    db = Database(postgres_url)
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        first = _backend(db)
        with admin.connect() as conn:  # what a restart does to the pooled connection
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        time.sleep(0.3)
        second = _backend(db)  # no error: the dead connection was found and replaced
        assert second != first
    finally:
        db.dispose()
        admin.dispose()


def test_a_connection_in_use_a_moment_ago_is_not_pinged(postgres_url: str) -> None:
    db = Database(postgres_url)
    pings = []
    original = db.engine.dialect.do_ping
    db.engine.dialect.do_ping = lambda c: pings.append(c) or original(c)  # type: ignore[method-assign]
    try:
        for _ in range(20):
            _backend(db)
        assert pings == []  # twenty transactions, not forty
    finally:
        db.dispose()
