"""Migrations build exactly the models' schema, on SQLite and PostgreSQL, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, insert, select, table, text

from vigil.errors import ConfigError, NotInitialised
from vigil.search.vectors import decode
from vigil.store import migrate
from vigil.store.db import Database
from vigil.store.models import Base, SightingRow, UTCDateTime


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


def test_sightings_stored_before_keep_their_one_descriptor(database_url: str) -> None:
    db = Database(database_url)
    migrate.upgrade(db, "0008")
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    cameras = table(
        "cameras",
        column("name"),
        column("url"),
        column("enabled"),
        column("created_at", UTCDateTime()),
    )
    sightings = table(
        "sightings",
        *(column(n) for n in ("camera_id", "source", "box", "face_px", "sharpness")),
        *(column(n) for n in ("frontalness", "faces", "crop", "embedding")),
        *(column(n, UTCDateTime()) for n in ("start", "end", "created_at")),
    )
    descriptor = np.linspace(-0.2, 0.2, 128, dtype="<f4")
    with db.write() as session:
        session.execute(
            insert(cameras).values(name="gate", url="rtsp://x/1", enabled=True, created_at=now)
        )
        camera = session.scalar(text("SELECT id FROM cameras"))
        session.execute(
            insert(sightings).values(
                camera_id=camera, source="segment", box="{}", face_px=80, sharpness=50.0,
                frontalness=0.9, faces=3, crop=b"jpeg", embedding=descriptor.tobytes(),
                start=now, end=now, created_at=now,
            )
        )  # fmt: skip
    migrate.upgrade(db)
    with db.read() as session:
        row = session.scalars(select(SightingRow)).one()
        assert row.descriptors == 1
        assert row.embedding is not None
        assert decode(row.embedding).reshape(-1, 128).tolist() == [descriptor.tolist()]
        assert row.embedding_models == "dlib"  # what made every descriptor stored before
    db.dispose()
