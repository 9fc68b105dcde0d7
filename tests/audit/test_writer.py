"""Group commit: many threads, every record durable and in the log exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from tests.conftest import Env
from vigil.audit.log import AuditLog, Record
from vigil.audit.verify import verify_log
from vigil.audit.writer import AuditWriter


def test_concurrent_callers_share_commits_and_lose_nothing(env: Env) -> None:
    writer = AuditWriter(env.services.db, env.services.audit)

    def work(n: int) -> list[int]:
        return [
            writer.record(Record(actor=f"t{n}", action="read", target=str(i), request_id="r"))
            for i in range(25)
        ]

    with ThreadPoolExecutor(16) as pool:
        seqs = [s for chunk in pool.map(work, range(16)) for s in chunk]
    writer.close()
    assert len(set(seqs)) == 400
    assert writer.commits.items == 400
    assert writer.commits.commits < 400  # some commits served several callers
    with env.services.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM audit_entries WHERE action = 'read'"))
        assert stored.scalar() == 400
        assert verify_log(conn, env.services.audit.key.public_key).ok


def test_a_failed_commit_reaches_every_waiting_caller(env: Env) -> None:
    with env.services.db.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_state"))
    writer = AuditWriter(env.services.db, AuditLog(env.services.audit.key))
    with pytest.raises(Exception, match="audit_state"):
        writer.record(Record(actor="a", action="b", target="c", request_id="r"))
    assert writer.commits.failed == 1
    writer.close()
