"""Changes' records on PostgreSQL: committed with the change without waiting on the log's
order, moved into the tree in shared commits, none lost to a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import Env, make_env
from vigil.audit.log import Record
from vigil.audit.verify import verify_log

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_env(tmp_path: Path, postgres_url: str) -> Iterator[Env]:
    environment = make_env(tmp_path / "data", postgres_url)
    yield environment
    environment.services.close()


def _count(env: Env, table: str, where: str = "TRUE") -> int:
    with env.services.db.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one())  # noqa: S608


def _verified(env: Env) -> bool:
    with env.services.db.engine.connect() as conn:
        return verify_log(conn, env.services.audit.key.public_key).ok


def test_a_change_is_in_the_log_when_it_returns(pg_env: Env) -> None:
    """Uncontended, in place: the change's own transaction appends it."""
    ctx = pg_env.local()
    with pg_env.services.db.write() as session:
        pg_env.services.access.record(session, ctx, "setting.change", "x")
        assert _count(pg_env, "audit_pending") == 0  # not committed yet: nobody sees it
    assert _count(pg_env, "audit_pending") == 0
    assert _count(pg_env, "audit_entries", f"request_id = '{ctx.request_id}'") == 1
    assert _verified(pg_env)


def test_a_rolled_back_change_leaves_no_record(pg_env: Env) -> None:
    ctx = pg_env.local()

    def failing_change() -> None:
        with pg_env.services.db.write() as session:
            pg_env.services.access.record(session, ctx, "setting.change", "x")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert (
        _count(pg_env, "audit_pending")
        + _count(pg_env, "audit_entries", f"request_id = '{ctx.request_id}'")
        == 0
    )


def test_staged_records_enter_the_log_in_commit_order_with_the_next_append(pg_env: Env) -> None:
    services = pg_env.services
    with services.db.engine.connect() as holder, holder.begin():  # another append under way
        holder.execute(text("SELECT * FROM audit_state FOR UPDATE"))
        for n in range(3):  # committed, and then the process died before moving them
            with services.db.write() as session:
                staged = services.audit.stage(session, Record("a", "setting.change", f"t{n}", "r"))
            assert staged  # the change did not wait for the lock
    assert _count(pg_env, "audit_pending") == 3
    with services.db.write() as session:  # a head covers them: they go in first
        head = services.audit.sign_head(session)
    assert _count(pg_env, "audit_pending") == 0
    with services.db.engine.connect() as conn:
        targets = conn.execute(text("SELECT target FROM audit_entries ORDER BY seq")).scalars()
        assert [t for t in targets if t.startswith("t")] == ["t0", "t1", "t2"]
    assert head.size == _count(pg_env, "audit_entries")
    assert _verified(pg_env)


def test_concurrent_changes_share_commits_of_the_log(pg_env: Env) -> None:
    services = pg_env.services
    commits = services.access.writer.commits
    before = commits.commits

    def work(n: int) -> None:
        for i in range(20):
            with services.db.write() as session:
                services.access.record(session, pg_env.local(), "setting.change", f"{n}:{i}")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))
    assert _count(pg_env, "audit_entries", "action = 'setting.change'") == 320
    assert _count(pg_env, "audit_pending") == 0
    assert commits.commits - before < 320  # moves into the log served several changes
    assert _verified(pg_env)


def test_a_killed_process_loses_no_acknowledged_record_of_a_change_or_a_read(
    pg_env: Env, postgres_url: str
) -> None:
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "tests.audit.changer", postgres_url, str(pg_env.data_dir)]
    acknowledged: list[str] = []
    with subprocess.Popen([*command, "32"], cwd=root, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while len(acknowledged) < 500 and time.monotonic() < deadline:
            acknowledged.append(process.stdout.readline().strip())
        os.kill(process.pid, signal.SIGKILL)  # mid-load: changes in flight, records staged
        acknowledged += [line.strip() for line in process.stdout]  # written before the kill
    acknowledged = [line for line in acknowledged if line]
    assert len(acknowledged) >= 500
    pg_env.services.access.writer.drain()  # what the next start's first append does
    changes = "SELECT request_id FROM audit_entries WHERE target LIKE 'thread:%'"
    with pg_env.services.db.engine.connect() as conn:
        stored = conn.execute(text(changes)).scalars().all()
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))  # none twice
    assert _count(pg_env, "audit_pending") == 0
    assert _verified(pg_env)
