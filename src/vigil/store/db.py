"""Engine and transactions of the metadata store: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    InvalidatePoolError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from vigil.errors import ConfigError, DiskFull

logger = logging.getLogger(__name__)

_WRITE = "vigil_write"
_THEN = "vigil_after_commit"
_RETURNED = "vigil_returned"
PING_IDLE_S = 1.0
CONNECT_TIMEOUT_S = 10


class Database:
    """Owns the engine; hands out sessions inside one transaction each.

    ``write()`` transactions are serialised on SQLite by ``BEGIN IMMEDIATE`` (so concurrent
    writers queue on the busy timeout instead of failing at commit); PostgreSQL serialises
    the few hot rows with ``SELECT ... FOR UPDATE`` where it matters.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        sqlite_synchronous: str = "FULL",
        connect_timeout_s: int = CONNECT_TIMEOUT_S,
    ) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(f"database URL is not valid: {exc}") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"unsupported database backend {self.dialect!r}")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        elif "connect_timeout" not in parsed.query:  # libpq would wait on a hung server
            kwargs["connect_args"] = {"connect_timeout": connect_timeout_s}
        self.engine: Engine = create_engine(parsed, **kwargs)
        event.listen(self.engine, "handle_error", _disk_full)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, sqlite_synchronous)
        else:
            _ping_idle(self.engine)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction: committed on success, rolled back on any error; then
        what ``after_commit`` asked for, once the connection is back in the pool."""
        with self._writer() as session:
            with session.begin():
                yield session
            then: list[Callable[[], object]] = session.info.pop(_THEN, [])
        for step in then:
            step()

    @staticmethod
    def after_commit(session: Session, step: Callable[[], object]) -> None:
        """Run ``step`` (once) after the ``write`` transaction of ``session`` commits, with
        no connection held: a step that waits on other transactions cannot starve them."""
        then = session.info.setdefault(_THEN, [])
        if step not in then:
            then.append(step)

    @contextmanager
    def write_core(self) -> Iterator[Connection]:
        """A read-write transaction on a bare connection, for hot paths without ORM objects."""
        with self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    def serialise(self, session: Session, *keys: str) -> None:
        """Make the rest of this write transaction run alone among those naming the same
        keys (a check followed by the write that it allows: login throttles, quotas).

        SQLite runs every write transaction alone already; PostgreSQL takes a transaction
        advisory lock per key (in the order given: callers name keys in one fixed order).
        """
        if self.dialect != "postgresql":
            return
        for key in keys:
            digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
            number = int.from_bytes(digest, "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})

    def dispose(self) -> None:
        self.engine.dispose()


PG_DISK_FULL = "53100"
PG_ROLLED_BACK = "40"  # SQLSTATE class: transaction rollback (deadlock, serialization)


def unavailable(exc: BaseException) -> bool:
    """Whether an error is the store's, not the transaction's: it cannot be reached or
    answered in time (down, hung, its pool exhausted, an SQLite file locked past the busy
    timeout) or its disk is full; any other transaction would fail the same way now. A
    PostgreSQL deadlock or serialization failure (SQLSTATE class 40) is the transaction's:
    the same work alone may go through."""
    if isinstance(exc, OperationalError):
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
        return not sqlstate.startswith(PG_ROLLED_BACK)
    return isinstance(exc, InterfaceError | PoolTimeout | DiskFull)


def _disk_full(context: Any) -> None:
    """A store on a full disk says so (DiskFull, answered 507) instead of a driver error."""
    original = context.original_exception
    full = (
        isinstance(original, sqlite3.OperationalError)
        and getattr(original, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    ) or getattr(original, "sqlstate", None) == PG_DISK_FULL
    if full:
        raise DiskFull(
            "the database's disk is full: nothing was done (Vigil does nothing it cannot record)"
        ) from original


def _ping_idle(engine: Engine) -> None:
    """Ping a pooled connection before it is used if it sat idle (a server restart, a
    failover or an idle timeout may have closed it meanwhile): a dead one is replaced, with
    every connection of the pool, before the caller's transaction starts.

    One used a moment ago is not pinged, unlike with the pool's ``pre_ping``: under load a
    ping before every checkout was a round trip and a transaction of its own, half of the
    server's transactions (``benchmarks/control_plane_bench.py``).
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_RETURNED)
        if returned is None or time.monotonic() - returned < PING_IDLE_S:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise InvalidatePoolError(f"an idle connection was closed: {exc}") from exc


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    if synchronous not in ("NORMAL", "FULL"):
        raise ConfigError(f"sqlite synchronous mode must be NORMAL or FULL, not {synchronous!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred-only).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
