"""The sightings' descriptors in a vector index: one FAISS index per day.

Descriptors live in the metadata store, the source of truth. A day's index is built from
it on first use and brought up to date before each search with the rows added since (new
sighting ids only grow), so sightings stored by any process are found. A search names the
sighting ids it may return (a case's scope, read from the store, which also leaves out rows
whose descriptor expired since): FAISS skips every other vector, so nothing outside the
scope is ranked, let alone returned. Per-day indexes keep time-bounded searches (every case
is bounded) small and let retention drop a day whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import faiss
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from vigil.faces.model import DESCRIPTOR_SIZE
from vigil.store.db import Database
from vigil.store.models import SightingRow


@dataclass(frozen=True, slots=True)
class Hit:
    sighting_id: int
    distance: float  # Euclidean, as the face engine compares


class VectorIndex(Protocol):
    def search(
        self, probe: NDArray[np.float32], days: Iterable[date], k: int, allowed: NDArray[np.int64]
    ) -> list[Hit]:
        """The k nearest of the ``allowed`` sightings over those days, nearest first."""
        ...

    def forget(self, day: date) -> None:
        """Drop a day (retention removed it)."""
        ...


def decode(blob: bytes) -> NDArray[np.float32]:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


@dataclass
class _Day:
    index: Any = field(
        default_factory=lambda: faiss.IndexIDMap2(faiss.IndexFlatL2(DESCRIPTOR_SIZE))
    )
    last_id: int = 0


class FaissDayIndex:
    """Exact (flat L2) FAISS indexes per day, kept in step with the store."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._days: dict[date, _Day] = {}
        self._lock = threading.Lock()

    def _sync(self, day: date) -> _Day:
        entry = self._days.setdefault(day, _Day())
        start = datetime.combine(day, time(), UTC)
        with self.db.read() as session:
            rows = session.execute(
                select(SightingRow.id, SightingRow.embedding)
                .where(
                    SightingRow.id > entry.last_id,
                    SightingRow.start >= start,
                    SightingRow.start < start + timedelta(days=1),
                    SightingRow.embedding.is_not(None),
                )
                .order_by(SightingRow.id)
            ).all()
        kept = [(row_id, blob) for row_id, blob in rows if blob is not None]
        if kept:
            vectors = np.array([decode(blob) for _, blob in kept], dtype=np.float32)
            entry.index.add_with_ids(vectors, np.array([i for i, _ in kept], dtype=np.int64))
            entry.last_id = kept[-1][0]
        return entry

    def search(
        self, probe: NDArray[np.float32], days: Iterable[date], k: int, allowed: NDArray[np.int64]
    ) -> list[Hit]:
        query = np.ascontiguousarray(probe, dtype=np.float32).reshape(1, DESCRIPTOR_SIZE)
        if len(allowed) == 0:
            return []
        # faiss' Python layer keeps the selector alive as long as the parameters
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        hits: list[Hit] = []
        with self._lock:
            for day in days:
                index = self._sync(day).index
                if index.ntotal == 0:
                    continue
                distances, ids = index.search(query, min(k, index.ntotal), params=params)
                hits += [
                    Hit(int(i), float(np.sqrt(max(float(d), 0.0))))
                    for d, i in zip(distances[0], ids[0], strict=True)
                    if i >= 0
                ]
        return sorted(hits, key=lambda h: h.distance)[:k]

    def forget(self, day: date) -> None:
        with self._lock:
            self._days.pop(day, None)


def days_between(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
