"""Group commit for audit records that stand alone (reads, refusals), and for the staged
records of changes (PostgreSQL): one transaction, many."""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from vigil.audit.log import AuditLog, Record
from vigil.logthrottle import Throttle
from vigil.store.db import Database

logger = logging.getLogger(__name__)

MAX_BATCH = 512
WAIT_S = 60.0
LINGER_S = 0.0005
_STOP = object()


class AuditWriter:
    """Appends records from many threads in shared transactions, like a database's group commit.

    ``record`` returns only once the record is committed, so a caller that answers after it
    never discloses anything that is not on the record. Records that belong to a change are
    not for this writer: they go into the change's own transaction.
    """

    def __init__(self, db: Database, log: AuditLog, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._log = log
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.failed_batches = 0
        self._throttle = Throttle(logger)

    def record(self, record: Record) -> int:
        """Append one record durably; returns its position in the log."""
        position = self._submit(record)
        assert position is not None  # noqa: S101 - a record is given a position
        return position

    def drain(self) -> None:
        """Move the changes' staged records committed so far into the log (``AuditLog.
        stage``), in a commit shared with other callers'."""
        self._submit(None)

    def _submit(self, record: Record | None) -> int | None:
        done: Future[int | None] = Future()
        self._start()
        self._queue.put((record, done))
        return done.result(timeout=WAIT_S)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=WAIT_S)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            # Like PostgreSQL's commit_delay: wait a moment for callers still on their way,
            # so one commit (and one fsync) serves as many of them as possible.
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get(timeout=LINGER_S)
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._commit(batch)  # type: ignore[arg-type]

    def _commit(self, batch: list[tuple[Record | None, Future[int | None]]]) -> None:
        records = [record for record, _ in batch if record is not None]
        try:
            with self._db.write_core() as conn:
                seqs = iter(self._log.append_many(conn, records))
        except Exception as exc:  # noqa: BLE001 - the worker loop's top: every caller gets it
            self.failed_batches += 1
            self._throttle.log(
                logging.ERROR,
                type(exc).__name__,
                "audit batch of %d records failed",
                len(batch),
                exc_info=exc,
            )
            for _, done in batch:
                done.set_exception(exc)
            return
        for record, done in batch:
            done.set_result(None if record is None else next(seqs))
