"""A subject request's photos compared with the archive: every sighting held, read a batch
at a time and measured together, and the watchlists' reference photos. What is found is
every sighting within the match point and the POSSIBLE nearest beyond it up to the
calibration's own FMR 1e-4 point (``OperatingPoint.possible``), for a person to judge."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from vigil.analytics.matching import OperatingPoint
from vigil.errors import Conflict
from vigil.faces.descriptors import width
from vigil.investigations.scope import described_by
from vigil.search.vectors import decode
from vigil.store.models import SightingRow, SubjectRequestRow, WatchlistPhoto

BATCH = 5000  # sightings read at a time while comparing
POSSIBLE = 50  # sightings beyond the match point put before a person, at most
Found = tuple[int, float, float, bool]  # sighting, distance, estimated FMR, within the match point


class Archive:
    def __init__(self, point: OperatingPoint) -> None:
        self.point = point

    def probes(self, row: SubjectRequestRow) -> NDArray[np.float32]:
        """The request's descriptors in the operating point's space."""
        if row.descriptors is None:
            raise Conflict(f"subject request {row.id} holds no descriptors")
        view = self.point.calibration.space.view(decode(row.descriptors), row.embedder)
        if view is None:
            raise Conflict(
                f"subject request {row.id} was described by {row.embedder}, not by the "
                f"configured {self.point.embedder}: take the request again with the photos"
            )
        return view

    def sightings(self, session: Session, probes: NDArray[np.float32]) -> tuple[int, list[Found]]:
        """(sightings compared, [(sighting, distance, estimated FMR, within the match
        point)] found): every sighting that still holds a descriptor of the point's kind,
        read BATCH at a time and compared a batch at once; found, those within the match
        point and the POSSIBLE nearest of those beyond it within ``possible``."""
        query = (
            select(SightingRow.id, SightingRow.embedding, SightingRow.embedding_models)
            .where(
                SightingRow.embedding.is_not(None),
                described_by(self.point.embedder),
            )
            .order_by(SightingRow.id)
            .execution_options(yield_per=BATCH)
        )
        searched = 0
        matched: list[Found] = []
        possible: list[Found] = []
        for rows in session.execute(query).partitions(BATCH):
            measured = self.measured(rows, probes)
            searched += len(measured)
            for sighting_id, distance, described in measured:
                if distance <= self.point.possible:
                    fmr = self.point.estimated_fmr(distance, described * len(probes))
                    match = self.point.matches(distance, self.point.embedder)
                    (matched if match else possible).append((sighting_id, distance, fmr, match))
            possible = sorted(possible, key=lambda found: found[1])[:POSSIBLE]
        return searched, matched + possible

    def measured(
        self, rows: Iterable[Row[int, bytes | None, str]], probes: NDArray[np.float32]
    ) -> list[tuple[int, float, int]]:
        """(id, nearest distance to the probes, descriptors held) of each row (id, stored
        descriptors, their models) that has a view in the point's space, measured together."""
        by_tag: dict[str, list[tuple[int, bytes]]] = {}
        for row_id, blob, tag in rows:
            if blob:
                by_tag.setdefault(tag, []).append((row_id, blob))
        measured = []
        for tag, stored in by_tag.items():
            nearest = self.nearest_each(stored, tag, probes)
            if nearest is not None:
                measured += [
                    (row_id, distance, held)
                    for (row_id, _), (distance, held) in zip(stored, nearest, strict=True)
                ]
        return measured

    def nearest_each(
        self, stored: list[tuple[int, bytes]], tag: str, probes: NDArray[np.float32]
    ) -> list[tuple[float, int]] | None:
        """For each row (descriptors of ``tag``), the least distance between one of its
        descriptors and one of the probes, and how many descriptors it holds; None when
        ``tag`` has no view in the point's space."""
        space = self.point.calibration.space
        vectors = space.view(decode(b"".join(blob for _, blob in stored)), tag)
        if vectors is None:
            return None
        counts = [len(blob) // (4 * width(tag)) for _, blob in stored]
        ours, theirs = vectors.astype(np.float64), probes.astype(np.float64)
        squared = (
            np.einsum("ij,ij->i", ours, ours)[:, np.newaxis]
            + np.einsum("ij,ij->i", theirs, theirs)[np.newaxis, :]
            - 2.0 * ours @ theirs.T
        )
        closest = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        each = np.minimum.reduceat(closest, starts)
        return [(float(d), n) for d, n in zip(each, counts, strict=True)]

    def watchlist_entries(self, session: Session, probes: NDArray[np.float32]) -> list[int]:
        """The watchlist entries (of any state) one of whose reference photos is the
        requester's face at the operating point."""
        rows = session.execute(
            select(
                WatchlistPhoto.entry_id, WatchlistPhoto.embedding, WatchlistPhoto.embedding_models
            )
        )
        measured = self.measured(rows, probes)
        return sorted(
            {
                entry
                for entry, distance, _ in measured
                if self.point.matches(distance, self.point.embedder)
            }
        )
