"""Alembic migrations run from code: ``upgrade`` on init and start-up, ``check`` elsewhere."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from vigil.errors import NotInitialised
from vigil.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to the newest revision (or ``revision``); a no-op when it is there."""
    cfg = _alembic_config()
    with db.engine.execution_options(vigil_write=True).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check(db: Database) -> None:
    current, head = current_revision(db), head_revision()
    if current != head:
        raise NotInitialised(
            f"database schema is at revision {current}, this Vigil needs {head}; "
            "run 'vigil init' (it migrates and never overwrites data)"
        )
