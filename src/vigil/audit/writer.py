"""Group commit for audit records that stand alone (reads, refusals), and for the staged
records of changes (PostgreSQL): one transaction, many."""

from __future__ import annotations

from vigil.audit.log import AuditLog, Record
from vigil.store.db import Database
from vigil.store.groupcommit import GroupCommit


class AuditWriter:
    """Appends records from many threads in shared transactions (``GroupCommit``).

    ``record`` returns only once the record is committed, so a caller that answers after it
    never discloses anything that is not on the record. Records that belong to a change are
    not for this writer: they go into the change's own transaction.
    """

    def __init__(self, db: Database, log: AuditLog) -> None:
        self._db = db
        self._log = log
        self.commits: GroupCommit[Record | None, int | None] = GroupCommit(
            "audit-writer", self._append
        )

    def record(self, record: Record) -> int:
        """Append one record durably; returns its position in the log."""
        position = self.commits.submit(record)
        assert position is not None  # noqa: S101 - a record is given a position
        return position

    def drain(self) -> None:
        """Move the changes' staged records committed so far into the log (``AuditLog.
        stage``), in a commit shared with other callers'."""
        self.commits.submit(None)

    def close(self) -> None:
        self.commits.close()

    def _append(self, batch: list[Record | None]) -> list[int | None]:
        """One transaction: the batch's records appended, the staged ones moved in."""
        records = [record for record in batch if record is not None]
        with self._db.write_core() as conn:
            seqs = iter(self._log.append_many(conn, records))
        return [None if record is None else next(seqs) for record in batch]
