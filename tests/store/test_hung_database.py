"""A PostgreSQL server that accepts connections and never answers (a hung host): writers
waiting on it are told within the configured connect timeout, all at once, not one
timeout after another."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from vigil.app import open_database
from vigil.audit.log import AuditLog, Record
from vigil.audit.signing import SigningKey
from vigil.audit.writer import AuditWriter
from vigil.config import Config
from vigil.store.db import Database, unavailable

TIMEOUT_S = 2
WRITERS = 8


@pytest.fixture
def hung_url() -> Iterator[str]:
    """A server whose kernel completes every connection and which never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"postgresql+psycopg://vigil@127.0.0.1:{listener.getsockname()[1]}/vigil"


def test_records_waiting_on_a_hung_database_all_fail_within_one_timeout(
    hung_url: str, tmp_path: Path
) -> None:
    config = Config.model_validate({"database": {"url": hung_url, "connect_timeout_s": TIMEOUT_S}})
    db = open_database(config, tmp_path)
    writer = AuditWriter(db, AuditLog(SigningKey(Ed25519PrivateKey.generate())))
    start = threading.Barrier(WRITERS)

    def record(n: int) -> BaseException | None:
        start.wait()
        try:
            writer.record(Record(actor="op", action="camera.view", target=f"{n}", request_id="r"))
        except Exception as exc:  # noqa: BLE001 - what each caller was told
            return exc
        return None

    began = time.monotonic()
    with ThreadPoolExecutor(WRITERS) as pool:
        told = list(pool.map(record, range(WRITERS)))
    waited = time.monotonic() - began
    writer.close()
    db.dispose()
    assert all(isinstance(exc, OperationalError) and unavailable(exc) for exc in told), told
    # The first caller's transaction, and at most one more for those who came while it
    # waited: never a wait of its own for each of the eight (8 x 2 s before).
    assert writer.commits.failed <= 2
    assert waited < 2 * TIMEOUT_S + 2
    assert writer.commits.commits == 0


@pytest.mark.postgres
def test_a_deadlock_or_serialization_failure_is_the_transactions_not_the_stores(
    postgres_url: str,
) -> None:
    """A batch that PostgreSQL rolled back for its own sake is tried again item by item."""
    db = Database(postgres_url)
    try:
        for code in ("40001", "40P01"):
            with pytest.raises(OperationalError) as raised, db.write_core() as conn:
                conn.execute(text(f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}'; END $$"))
            assert not unavailable(raised.value)
        with pytest.raises(OperationalError) as refused:  # nobody listens there
            Database("postgresql+psycopg://vigil@127.0.0.1:1/vigil").engine.connect()
        assert unavailable(refused.value)
    finally:
        db.dispose()
