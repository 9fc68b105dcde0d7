"""The sightings' descriptors in a vector index, partitioned by embedder, day and camera.

Descriptors live in the metadata store, the source of truth. Each (embedder, day, camera)
partition is a FAISS index of half-precision descriptors in that embedder's space
(``vigil.faces.descriptors``: dlib's 256 bytes each, 10 million in about 2.6 GB; fused,
768 bytes), scanned exactly. A sighting described by other models than the space's is not
indexed there at all: a probe is only ever compared with descriptors of its own kind. A
sighting has a few descriptors (different faces of its track), each indexed under the
sighting's id; a sighting's distance is that of its nearest one.
A case's scope is cameras and a time window, so a search scans
only the partitions of its cameras and days and nothing outside them is even ranked; its
cost grows with the scope, not with the archive. A camera's day is read from the store when
a case that reaches it is approved (``prepare``) or a search first needs it, and brought up
to date before each search with the rows added since, so sightings stored by any process
are found. Ids grow, but on PostgreSQL concurrent writers commit out of their ids' order (a
worker's result waits on its matching while another's commits): a read counts a camera-day
complete only up to the ids no transaction still held when it read (``InFlight``), and
reads past that point again until they are. The camera-days kept between searches are
bounded by a memory budget: beyond it, those least recently searched are let go and read
again when a search next needs them (a search's own scope is always read whole). Rows whose
descriptor expired since, and rows of the window's first and last day outside the window,
are dropped by the caller, which reads the hits' rows anyway (``search.py``). Retention
drops a day whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic, sleep
from typing import Any, Protocol

import faiss
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vigil.faces.descriptors import Space, single, tags_with, width
from vigil.faces.model import DESCRIPTOR_SIZE, MAX_DESCRIPTORS
from vigil.store.db import Database
from vigil.store.models import SightingRow

Key = tuple[str, date, int]  # (embedder, day, camera id)
READ_BATCH = 20_000  # rows read from the store at a time (about 30 MB of fused descriptors)


@dataclass(frozen=True, slots=True)
class Hit:
    sighting_id: int
    distance: float  # Euclidean, as the face engine compares


class VectorIndex(Protocol):
    def search(
        self, probe: NDArray[np.float32], days: Iterable[date], cameras: Iterable[int], k: int
    ) -> list[Hit]:
        """The k nearest sightings of those cameras on those days, nearest first."""
        ...

    def prepare(self, days: Iterable[date], cameras: Iterable[int]) -> None:
        """Read those cameras' days now, so that a search of them need not wait for it."""
        ...

    def forget(self, day: date) -> None:
        """Drop a day (retention removed it)."""
        ...


def decode(blob: bytes) -> NDArray[np.float32]:
    """One stored descriptor (a reference photo's)."""
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def _partition(dimension: int) -> Any:
    return faiss.IndexIDMap(faiss.IndexScalarQuantizer(dimension, faiss.ScalarQuantizer.QT_fp16))


class Partitions:
    """FAISS indexes by (embedder, day, camera): the structure, without the store. They are
    kept in the order they were last added to or searched, the least recent first."""

    def __init__(self, dimension: int = DESCRIPTOR_SIZE) -> None:
        self.dimension = dimension
        self.row_bytes = 2 * dimension + 8  # a half-precision descriptor and its id
        self._parts: OrderedDict[Key, Any] = OrderedDict()
        self._rows = 0  # in all the partitions (read without a lock: a metric reads it)

    def add(self, key: Key, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        part = self._parts.get(key)
        if part is None:
            part = self._parts[key] = _partition(self.dimension)
        self._parts.move_to_end(key)
        part.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32),
            np.ascontiguousarray(ids, dtype=np.int64),
        )
        self._rows += len(ids)

    def search(self, probe: NDArray[np.float32], keys: Iterable[Key], k: int) -> list[Hit]:
        query = np.ascontiguousarray(probe, dtype=np.float32).reshape(1, self.dimension)
        # A sighting has up to MAX_DESCRIPTORS rows: enough rows for k sightings.
        rows = k * MAX_DESCRIPTORS
        found_d: list[NDArray[np.float32]] = []
        found_i: list[NDArray[np.int64]] = []
        for key in keys:
            part = self._parts.get(key)
            if part is None or part.ntotal == 0:
                continue
            self._parts.move_to_end(key)
            distances, ids = part.search(query, min(rows, part.ntotal))
            found_d.append(distances[0])
            found_i.append(ids[0])
        if not found_d:
            return []
        distances, ids = np.concatenate(found_d), np.concatenate(found_i)
        if len(distances) > rows:  # the nearest rows of all the partitions, then in order
            nearest_rows = np.argpartition(distances, rows - 1)[:rows]
            distances, ids = distances[nearest_rows], ids[nearest_rows]
        order = np.argsort(distances, kind="stable")
        nearest: dict[int, Hit] = {}
        for d, i in zip(distances[order].tolist(), ids[order].tolist(), strict=True):
            if i >= 0:  # a sighting's nearest descriptor
                nearest.setdefault(i, Hit(i, float(np.sqrt(max(d, 0.0)))))
        return list(nearest.values())[:k]

    def drop(self, day: date) -> None:
        for key in [key for key in self._parts if key[1] == day]:
            self._rows -= self._parts.pop(key).ntotal

    def let_go(self, budget: int, keep: set[Key]) -> list[Key]:
        """Drop the least recently used partitions, except those in ``keep``, until the rest
        take no more than ``budget`` bytes; the keys dropped."""
        dropped: list[Key] = []
        for key in list(self._parts):
            if self.nbytes <= budget:
                break
            if key not in keep:
                self._rows -= self._parts.pop(key).ntotal
                dropped.append(key)
        return dropped

    @property
    def nbytes(self) -> int:
        """The memory the descriptors and their ids take."""
        return len(self) * self.row_bytes

    def __len__(self) -> int:
        return self._rows


# One statement, so one snapshot: the newest id, the oldest transaction still in progress,
# and the newest one in progress then (xid8: 64 bits, no wraparound).
_NEWEST_PG = text(
    "SELECT (SELECT max(id) FROM sightings), "
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
    "(SELECT max(x)::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS x)"
)
_OLDEST_PG = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
SETTLE_WAIT_S = 0.1  # a search waits this long at most for the transactions in progress
SETTLE_POLL_S = 0.005


class InFlight:
    """Which sighting ids are settled: no transaction that could still commit a row with
    such an id was running. On SQLite writers commit one at a time in their ids' order,
    so every id read is settled. On PostgreSQL a read's newest id is settled once every
    transaction in progress at that read has ended (they took their ids before it; a
    transaction that has written nothing else yet takes its id and its transaction id in
    the same statement): the read waits up to SETTLE_WAIT_S for them (they are short),
    else a later read finds them ended."""

    def __init__(self) -> None:
        self.settled = 0
        self._waiting: list[tuple[int, int]] = []  # (newest id, newest xid in progress)

    def newest(self, session: Session) -> int:
        """The store's newest sighting id now; ``settled`` brought up to date."""
        if session.get_bind().dialect.name != "postgresql":
            newest = session.scalar(select(func.max(SightingRow.id))) or 0
            self.settled = max(self.settled, newest)
            return newest
        newest, oldest, latest = session.execute(_NEWEST_PG).one()
        newest = newest or 0
        deadline = monotonic() + SETTLE_WAIT_S
        while latest is not None and oldest <= latest and monotonic() < deadline:
            sleep(SETTLE_POLL_S)
            oldest = session.scalar(_OLDEST_PG)  # a statement, a snapshot of its own
        for read, running in self._waiting:
            if running < oldest:  # all of them have ended since
                self.settled = max(self.settled, read)
        self._waiting = [(read, running) for read, running in self._waiting if running >= oldest]
        if latest is None or oldest > latest:  # no id up to the newest is still to commit
            self.settled = max(self.settled, newest)
            self._waiting.clear()
        else:
            self._waiting.append((newest, latest))
        return newest


class FaissDayIndex:
    """Partitions of one embedder's space kept in step with the store, a camera-day at a
    time: a search reads only its own cameras' days. ``budget`` bounds the bytes of the
    camera-days kept between searches (None: all are kept)."""

    def __init__(self, db: Database, space: Space | None = None, budget: int | None = None) -> None:
        self.db = db
        self.space = space or single("dlib")
        self.budget = budget
        self.let_go = 0  # camera-days let go to stay within the budget, since the start
        self.partitions = Partitions(self.space.dimension)
        self.in_flight = InFlight()
        # (day, camera): every row up to this id is indexed; and those indexed past it.
        self._complete: dict[tuple[date, int], int] = {}
        self._past: dict[tuple[date, int], set[int]] = defaultdict(set)
        self._lock = threading.Lock()

    def _sync(self, days: list[date], cameras: list[int]) -> None:
        """Bring these cameras' days up to date with the store, up to its newest row: a day
        never read is read alone (its rows take memory while they are decoded); the rows
        stored since the others were complete, in one read of them all. A day is read up
        to the newest row of the store, not of the day, so that its next read asks for
        later ids alone, which the primary key finds at once."""
        if not cameras:
            return
        with self.db.read() as session:
            newest = self.in_flight.newest(session)
        behind = {day: min(self._complete.get((day, c), -1) for c in cameras) for day in days}
        for day in [day for day, complete in behind.items() if complete < 0]:
            self._read([day], cameras, 0, newest)
        later = [day for day, complete in behind.items() if 0 <= complete < newest]
        if later:
            self._read(later, cameras, min(behind[day] for day in later), newest)

    def _read(self, days: list[date], cameras: list[int], after: int, newest: int) -> None:
        """Read the rows of these cameras' days after ``after`` up to ``newest`` that are
        not indexed yet (those described by this space's models: others are never
        compared), READ_BATCH at a time: a day's rows are never all in memory at once."""
        first = datetime.combine(min(days), time(), UTC)
        end = datetime.combine(max(days), time(), UTC) + timedelta(days=1)
        query = (
            select(
                SightingRow.id,
                SightingRow.camera_id,
                SightingRow.start,
                SightingRow.embedding,
                SightingRow.embedding_models,
            )
            .where(
                SightingRow.camera_id.in_(cameras),
                SightingRow.id > after,
                SightingRow.id <= newest,
                SightingRow.start >= first,
                SightingRow.start < end,
                SightingRow.embedding.is_not(None),
                SightingRow.embedding_models.in_(tags_with(self.space.embedder)),
            )  # in no order: an order by id could lead the planner to scan every id
            .execution_options(yield_per=READ_BATCH)
        )
        wanted = set(days)
        settled = min(self.in_flight.settled, newest)
        with self.db.read() as session:
            for rows in session.execute(query).partitions():
                fresh: dict[tuple[date, str], list[tuple[int, int, bytes]]] = defaultdict(list)
                for row_id, camera_id, start, blob, tag in rows:
                    day = start.astimezone(UTC).date()
                    if day not in wanted or blob is None or self._indexed(day, camera_id, row_id):
                        continue
                    fresh[(day, tag)].append((row_id, camera_id, blob))
                    if row_id > settled:  # read again until settled: remembered
                        self._past[(day, camera_id)].add(row_id)
                for (day, tag), described in fresh.items():
                    self._add(day, tag, described)
        for day in days:
            for camera in cameras:
                key = (day, camera)
                complete = self._complete[key] = max(self._complete.get(key, 0), settled)
                if past := {i for i in self._past.pop(key, ()) if i > complete}:
                    self._past[key] = past

    def _indexed(self, day: date, camera: int, row_id: int) -> bool:
        key = (day, camera)
        return row_id <= self._complete.get(key, 0) or row_id in self._past.get(key, ())

    def _add(self, day: date, tag: str, rows: list[tuple[int, int, bytes]]) -> None:
        """Rows of one kind (``tag``) into their cameras' partitions, decoded at once: a
        row holds one descriptor or more, side by side."""
        ids, cameras, blobs = zip(*rows, strict=True)
        per_row = np.array([len(b) for b in blobs]) // (4 * width(tag))
        vectors = self.space.of(np.frombuffer(b"".join(blobs), dtype="<f4"), tag)
        ids_of = np.repeat(np.array(ids, dtype=np.int64), per_row)
        cameras_of = np.repeat(np.array(cameras, dtype=np.int64), per_row)
        for camera in np.unique(cameras_of).tolist():
            mine = cameras_of == camera
            self.partitions.add((self.space.embedder, day, camera), ids_of[mine], vectors[mine])

    def search(
        self, probe: NDArray[np.float32], days: Iterable[date], cameras: Iterable[int], k: int
    ) -> list[Hit]:
        days, cameras = list(days), sorted(set(cameras))
        with self._lock:
            self._sync(days, cameras)
            keys = self._within_budget(days, cameras)
            return self.partitions.search(probe, keys, k)

    def prepare(self, days: Iterable[date], cameras: Iterable[int]) -> None:
        days, cameras = list(days), sorted(set(cameras))
        with self._lock:
            self._sync(days, cameras)
            self._within_budget(days, cameras)

    def _within_budget(self, days: list[date], cameras: list[int]) -> list[Key]:
        """Let other camera-days go while the index is over its budget: each is read whole
        again when a search next needs it. These days' keys."""
        keys = [(self.space.embedder, day, camera) for day in days for camera in cameras]
        if self.budget is not None:
            for _, day, camera in self.partitions.let_go(self.budget, set(keys)):
                self._complete.pop((day, camera), None)
                self._past.pop((day, camera), None)
                self.let_go += 1
        return keys

    def forget(self, day: date) -> None:
        with self._lock:
            self.partitions.drop(day)
            for key in [key for key in self._complete if key[0] == day]:
                del self._complete[key]
                self._past.pop(key, None)


def days_between(start: datetime, end: datetime) -> list[date]:
    """The UTC days that the window [start, end) reaches: a window ending at midnight does
    not reach the day that begins then."""
    first = start.astimezone(UTC).date()
    last = max(first, (end.astimezone(UTC) - timedelta(microseconds=1)).date())
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
