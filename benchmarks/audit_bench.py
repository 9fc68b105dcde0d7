"""Audit log benchmark: append throughput and full verification time.

    .venv/bin/python benchmarks/audit_bench.py [--entries 1000000] [--database-url URL]

Targets (issue 2): >= 5,000 appends/s; verify 1M entries in < 60 s, on SQLite.
A record of a change shares the change's transaction (one commit each); reads and refusals
from concurrent requests are group-committed by the AuditWriter. Issue 30: >= 5,000 changes
a second, each with its record, from 32 concurrent writers: on PostgreSQL a change's record
is staged in its transaction and moved into the log by the writer in shared commits.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.schemas import fresh_schema

from vigil.audit.log import AuditLog, Record
from vigil.audit.signing import SigningKey
from vigil.audit.verify import verify_log
from vigil.audit.writer import AuditWriter
from vigil.auth.access import Access
from vigil.auth.roles import LOCAL, RequestContext
from vigil.store import migrate
from vigil.store.db import Database

APPEND_TARGET = 5_000.0
VERIFY_TARGET_S = 60.0


def _record(i: int) -> Record:
    return Record(
        actor=f"user{i % 97}",
        action=("camera.view", "playback.view", "search.run", "auth.login")[i % 4],
        target=f"camera:cam{i % 400}",
        request_id=f"{i:032x}",
        details={"client": "10.0.0.1", "from": "2026-11-23T10:00:00Z", "n": i},
    )


def _single(db: Database, log: AuditLog, count: int) -> float:
    """One entry per transaction, as one API request writes one record."""
    start = time.perf_counter()
    for i in range(count):
        with db.write() as session:
            log.append(session, _record(i))
    return count / (time.perf_counter() - start)


def _concurrent(db: Database, log: AuditLog, count: int, threads: int) -> float:
    """Reads and refusals from many request threads, group-committed by the AuditWriter."""
    writer = AuditWriter(db, log)
    per_thread = count // threads

    def work(first: int) -> None:
        for i in range(first, first + per_thread):
            writer.record(_record(i))

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(0, per_thread * threads, per_thread)))
    rate = per_thread * threads / (time.perf_counter() - start)
    writer.close()
    return rate


def _changes(db: Database, log: AuditLog, count: int, threads: int) -> float:
    """Changes from many request threads, each recorded in its own transaction, as
    ``Access.record`` does (staged on PostgreSQL); all in the log when each returns."""
    access = Access(db, log, AuditWriter(db, log))
    per_thread = count // threads

    def work(first: int) -> None:
        for i in range(first, first + per_thread):
            ctx = RequestContext(LOCAL, f"{i:032x}")
            with db.write() as session:
                access.record(session, ctx, "setting.change", f"camera:cam{i % 400}")

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(0, per_thread * threads, per_thread)))
    rate = per_thread * threads / (time.perf_counter() - start)
    access.writer.close()
    return rate


def _batched(db: Database, log: AuditLog, count: int, batch: int) -> float:
    start = time.perf_counter()
    for first in range(0, count, batch):
        with db.write() as session:
            log.append_many(session, [_record(i) for i in range(first, min(first + batch, count))])
    return count / (time.perf_counter() - start)


def _open(url: str, key_dir: Path) -> tuple[Database, AuditLog]:
    db = Database(url)
    migrate.upgrade(db)
    return db, AuditLog(SigningKey.create(key_dir), head_interval_s=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size to verify")
    parser.add_argument("--single", type=int, default=5_000, help="single-entry transactions")
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL (a fresh schema); default: SQLite"
    )
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = f"sqlite:///{base / 'bench.db'}"
        if args.database_url:  # a schema of its own: a log of another run has another key
            url = stack.enter_context(fresh_schema(args.database_url, "vigil_audit"))
        db, log = _open(url, base)
        print(f"backend: {db.dialect} ({'temp file' if not args.database_url else url})")

        single = _single(db, log, args.single)
        print(
            f"append, 1 entry/transaction:    {single:10,.0f} entries/s  "
            f"({single / APPEND_TARGET:.2f}x the {APPEND_TARGET:,.0f}/s target)"
        )
        for threads in (8, 32, 64):
            rate = _concurrent(db, log, 20_000, threads)
            print(
                f"append, {threads:2d} threads, group commit: {rate:9,.0f} entries/s  "
                f"({rate / APPEND_TARGET:.2f}x the target)"
            )
        for threads in (8, 32):
            rate = _changes(db, log, 20_000, threads)
            print(
                f"changes, {threads:2d} threads, own transaction each: {rate:9,.0f} changes/s  "
                f"({rate / APPEND_TARGET:.2f}x the target)"
            )
        batched = _batched(db, log, 50_000, 100)
        print(f"append, 100 entries/transaction: {batched:9,.0f} entries/s")

        remaining = args.entries - args.single - 5 * 20_000 - 50_000
        fill_start = time.perf_counter()
        _batched(db, log, max(remaining, 0), 10_000)
        print(f"filled to {args.entries:,} entries in {time.perf_counter() - fill_start:.1f} s")

        start = time.perf_counter()
        with db.engine.connect() as conn:
            report = verify_log(conn, log.key.public_key)
        elapsed = time.perf_counter() - start
        print(
            f"verify {report.entries:,} entries, {report.heads:,} signed heads: {elapsed:.1f} s "
            f"({report.entries / elapsed:,.0f} entries/s; target < {VERIFY_TARGET_S:.0f} s, "
            f"{VERIFY_TARGET_S / elapsed:.1f}x headroom); ok={report.ok}"
        )
        db.dispose()


if __name__ == "__main__":
    main()
