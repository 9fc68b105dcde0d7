"""Migrations build exactly the models' schema, on SQLite and PostgreSQL, idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from vigil.errors import ConfigError, NotInitialised
from vigil.store import migrate
from vigil.store.db import Database
from vigil.store.models import Base


def test_upgrade_matches_models_and_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    with pytest.raises(NotInitialised, match="vigil init"):
        migrate.check(db)
    migrate.upgrade(db)
    migrate.upgrade(db)
    migrate.check(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    with db.read() as session:
        state = session.execute(text("SELECT size, last_time_us FROM audit_state")).one()
    assert tuple(state) == (0, 0)
    db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    db.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [("mysql://x@localhost/db", "unsupported database backend"), ("::not a url::", "not valid")],
)
def test_bad_database_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Database(url)


def test_a_failed_write_leaves_nothing_behind(database_url: str) -> None:
    db = Database(database_url)
    migrate.upgrade(db)
    insert = text("INSERT INTO camera_groups (name, created_at) VALUES ('g', '2026-01-01')")

    def failing_write() -> None:
        with db.write() as session:
            session.execute(insert)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_write()
    with db.read() as session:
        assert session.execute(text("SELECT count(*) FROM camera_groups")).scalar() == 0
    db.dispose()
