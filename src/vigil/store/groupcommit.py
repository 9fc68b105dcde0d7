"""Group commit: many threads' writes in shared transactions, like a database's own group
commit. Each caller is answered only once its item is committed, so a caller never acts on
a write that is not durable; a commit serves every caller that arrived while the one
before it ran (and those arriving within a moment after), so under load one transaction
and one fsync carry many writes, and alone a write waits only that moment (``LINGER_S``)
and a hand-over to the writer's thread longer than in a transaction of its own.

A caller that need not wait (``submit_later``) is told through its item's future; with
``period_s`` the writer gathers items for that long after the first of a batch, so that
callers who do not wait share one transaction a period however they arrive.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from vigil.logthrottle import Throttle
from vigil.store.db import unavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 512
WAIT_S = 60.0
LINGER_S = 0.0005
_STOP = object()


class GroupCommit(Generic[T, R]):
    """Commits items from many threads in batches through ``commit``, which writes a batch
    in one transaction and returns each item's result in order.

    When a batch fails, its items are tried again one by one, so one bad item (a duplicate
    key) fails only its own caller; but when the store itself failed (``unavailable``:
    down, hung, locked, its disk full) every caller of the batch gets that error at once,
    as each would have alone, instead of after one more wait each.
    """

    def __init__(
        self,
        name: str,
        commit: Callable[[list[T]], list[R]],
        *,
        max_batch: int = MAX_BATCH,
        linger_s: float = LINGER_S,
        period_s: float = 0.0,
        wait_s: float | None = WAIT_S,
    ) -> None:
        self._name = name
        self._wait_s = wait_s
        self._commit = commit
        self._max_batch = max_batch
        self._linger_s = linger_s
        self._period_s = period_s
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._throttle = Throttle(logger)
        self.commits = 0  # transactions committed
        self.failed = 0  # transactions that failed
        self.items = 0  # items committed

    def submit(self, item: T) -> R:
        """Commit one item; returns its result once committed, or raises the commit's error
        (``TimeoutError`` after ``wait_s``; None waits as long as the database takes)."""
        return self.submit_later(item).result(timeout=self._wait_s)

    def submit_later(self, item: T) -> Future[R]:
        """Commit one item without waiting: its future has the result (or the commit's
        error) once committed; callbacks added to it run on the writer's thread."""
        done: Future[R] = Future()
        self._start()
        self._queue.put((item, done))
        return done

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Commit what was submitted and stop the thread (a later submit starts it again)."""
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
            # so one commit (and one fsync) serves as many of them as possible; or, with a
            # period, gather what arrives within it.
            deadline = time.monotonic() + self._period_s
            while len(batch) < self._max_batch:
                wait = deadline - time.monotonic() if self._period_s else self._linger_s
                try:
                    item = self._queue.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._write(batch)  # type: ignore[arg-type]

    def _write(self, batch: list[tuple[T, Future[R]]]) -> None:
        try:
            results = self._commit([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - the writer loop's top: the callers get it
            self.failed += 1
            self._throttle.log(
                logging.ERROR,
                type(exc).__name__,
                "%s: a commit of %d failed",
                self._name,
                len(batch),
                exc_info=exc,
            )
            if len(batch) == 1 or unavailable(exc):
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for one in batch:
                    self._write([one])
            return
        self.commits += 1
        self.items += len(batch)
        for (_, done), result in zip(batch, results, strict=True):
            done.set_result(result)
