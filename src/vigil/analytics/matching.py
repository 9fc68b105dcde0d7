"""Matching new sightings against the approved, unexpired watchlist entries.

Alerts are raised in the transaction that stores the sightings, so a sighting and its
alert exist together or not at all; each raise is in the audit log (actor: system). A
person walking past a camera is tracked in several sightings (a track ends at a segment's
end, or when the face is lost for a moment): a match within ``merge`` of an alert's last
sighting, for the same entry at the same camera, joins that alert (audited as
``alert.seen_again``) instead of raising another one for people to review.

Sightings and references are compared in the configured embedder's space (``descriptors``)
only: a reference or sighting without that embedder's descriptors is not compared at all
(the watchlist says which references lack them: ``WatchlistService``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.roles import SYSTEM, RequestContext
from vigil.config import FacesConfig
from vigil.faces.calibration import Calibration
from vigil.faces.compare import compare
from vigil.search.vectors import decode
from vigil.store.models import (
    AlertRow,
    AlertSighting,
    SightingRow,
    WatchlistEntry,
    WatchlistPhoto,
)


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The distance at or below which a sighting matches, and what a distance says about
    false matches (``calibration``)."""

    threshold: float
    calibration: Calibration
    # Other embedders' thresholds, for results and alerts stored when another was configured.
    others: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls, faces: FacesConfig, calibration: Calibration, others: dict[str, float] | None = None
    ) -> OperatingPoint:
        # The calibration's match point (dlib's: FMR 1e-4), or the configured FMR 1e-4 point
        # once `vigil faces calibrate` ran, if stricter.
        point = min(faces.threshold_fmr_1e4 or 2.0, calibration.match_threshold)
        return cls(point, calibration, others or {})

    @property
    def embedder(self) -> str:
        return self.calibration.embedder

    @property
    def scale(self) -> float:
        return self.calibration.similarity_scale

    def estimated_fmr(self, distance: float, comparisons: int = 1) -> float:
        """The calibrated false-match rate at this distance, for the nearest of
        ``comparisons`` descriptor pairs."""
        return self.calibration.estimated_fmr(distance, comparisons)

    @property
    def possible(self) -> float:
        """The distance up to which a sighting beyond the match point may still be put
        before a person to judge: the calibration's own FMR 1e-4 point on LFW's strangers
        (the match point itself where that is no looser, as for dlib)."""
        return max(self.threshold, self.calibration.fmr_1e4)

    def matches(self, distance: float, embedder: str) -> bool:
        """Whether a distance measured in ``embedder``'s space is within its operating point."""
        if embedder == self.embedder:
            return distance <= self.threshold
        return embedder in self.others and distance <= self.others[embedder]

    def view(self, blob: bytes, tag: str) -> NDArray[np.float32] | None:
        """A stored descriptor blob in this point's space (None: it lacks a model of it)."""
        return self.calibration.space.view(decode(blob), tag)


def active_references(
    session: Session, now: datetime, point: OperatingPoint
) -> list[tuple[int, NDArray[np.float32]]]:
    """(entry id, descriptor in the point's space) of every reference photo of approved,
    unexpired entries that has a descriptor of that space."""
    rows = session.execute(
        select(WatchlistPhoto.entry_id, WatchlistPhoto.embedding, WatchlistPhoto.embedding_models)
        .join(WatchlistEntry, WatchlistEntry.id == WatchlistPhoto.entry_id)
        .where(
            WatchlistEntry.approved_at.is_not(None),
            WatchlistEntry.ended_at.is_(None),
            WatchlistEntry.expires_at > now,
        )
    )
    found = []
    for entry_id, blob, tag in rows:
        vectors = point.view(blob, tag)
        if vectors is not None:
            found.append((entry_id, vectors[0]))
    return found


class Matcher:
    def __init__(self, access: Access, point: OperatingPoint, merge: timedelta) -> None:
        self.access = access
        self.point = point
        self.merge = merge

    def match(self, session: Session, sighting_ids: list[int]) -> list[AlertRow]:
        """Raise one alert per sighting that matches an active entry (its nearest).

        A sighting's distance to an entry is the least over its descriptors and the entry's
        reference photos."""
        if not sighting_ids:
            return []
        now = datetime.now(UTC)
        references = active_references(session, now, self.point)
        if not references:
            return []
        sightings = session.scalars(
            select(SightingRow).where(SightingRow.id.in_(sighting_ids)).order_by(SightingRow.start)
        )
        alerts = []
        for sighting in sightings:
            if sighting.embedding is None:
                continue
            vectors = self.point.view(sighting.embedding, sighting.embedding_models)
            if vectors is None:  # described by other models: not compared (like with like)
                continue
            entry_id, best = min(
                (
                    (entry, compare(vector, ref, self.point.threshold, self.point.scale))
                    for vector in vectors
                    for entry, ref in references
                ),
                key=lambda pair: pair[1].distance,
            )
            photos = sum(entry == entry_id for entry, _ in references)
            if not best.same:
                continue
            ongoing = self._ongoing(session, entry_id, sighting)
            if ongoing is not None:
                self._join(session, ongoing, sighting, best.distance)
                continue
            alert = AlertRow(
                entry_id=entry_id,
                sighting_id=sighting.id,
                camera_id=sighting.camera_id,
                seen_at=sighting.start,
                last_seen_at=sighting.end,
                distance=best.distance,
                similarity=best.similarity,
                estimated_fmr=self.point.estimated_fmr(best.distance, len(vectors) * photos),
                embedder=self.point.embedder,
                state="pending",
                created_at=now,
            )
            session.add(alert)
            session.flush()
            session.add(AlertSighting(alert_id=alert.id, sighting_id=sighting.id))
            ctx = RequestContext(SYSTEM, uuid.uuid4().hex, "analysis")
            details = {
                "entry": entry_id,
                "sighting": sighting.id,
                "camera_id": sighting.camera_id,
                "distance": round(best.distance, 4),
            }
            self.access.record(session, ctx, "alert.raise", f"alert:{alert.id}", details)
            alerts.append(alert)
        return alerts

    def _ongoing(self, session: Session, entry_id: int, sighting: SightingRow) -> AlertRow | None:
        """The alert of this entry at this camera whose last sighting was moments ago."""
        if self.merge <= timedelta(0):
            return None
        return session.scalar(
            select(AlertRow)
            .where(
                AlertRow.entry_id == entry_id,
                AlertRow.camera_id == sighting.camera_id,
                AlertRow.seen_at <= sighting.end,
                AlertRow.last_seen_at >= sighting.start - self.merge,
            )
            .order_by(AlertRow.id.desc())
            .limit(1)
        )

    def _join(
        self, session: Session, alert: AlertRow, sighting: SightingRow, distance: float
    ) -> None:
        session.add(AlertSighting(alert_id=alert.id, sighting_id=sighting.id))
        if alert.last_seen_at is None or sighting.end > alert.last_seen_at:
            alert.last_seen_at = sighting.end
        session.flush()
        ctx = RequestContext(SYSTEM, uuid.uuid4().hex, "analysis")
        details = {"sighting": sighting.id, "distance": round(distance, 4)}
        self.access.record(session, ctx, "alert.seen_again", f"alert:{alert.id}", details)
