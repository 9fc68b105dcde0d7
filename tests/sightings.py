"""Sightings with chosen descriptors, stored as analysis stores them, and matching alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from tests.conftest import Env
from vigil.analytics.analyzer import Sighting
from vigil.analytics.sightings import store_sightings
from vigil.auth.roles import Role
from vigil.config import FacesConfig
from vigil.faces.descriptors import models_of, tag_of, width
from vigil.faces.model import Box
from vigil.faces.quality import Quality
from vigil.search.vectors import decode
from vigil.store.models import AlertRow, WatchlistPhoto

TAGS = {width(tag): tag for tag in ("dlib", "reid", "dlib+reid")}


def default_width() -> int:
    """How wide the default embedder's descriptors are (what its probes and references are)."""
    return width(tag_of(models_of(FacesConfig().embedder)))


def sightings_at(vectors: np.ndarray, at: datetime) -> list[Sighting]:
    """One sighting per row of ``vectors``, of the models their width tells."""
    size = np.asarray(vectors).shape[-1]
    return [
        Sighting(
            start=(at + timedelta(minutes=i)).timestamp(),
            end=(at + timedelta(minutes=i, seconds=5)).timestamp(),
            box=Box(0, 0, 50, 50),
            quality=Quality(50, 100.0, 0.9),
            crop_jpeg=b"",
            descriptors=np.asarray(v, dtype=np.float32).reshape(-1, size),
            faces=1,
            models=TAGS[size],
        )
        for i, v in enumerate(vectors)
    ]


def store_sightings_at(env: Env, camera: int, vectors: np.ndarray, at: datetime) -> list[int]:
    with env.services.db.write() as session:
        return store_sightings(session, camera, sightings_at(vectors, at), source="test")


def approved_entry(env: Env, portrait: Path, label: str = "suspect D") -> int:
    """A watchlist entry of the portrait, proposed by one person and approved by another."""
    ivy = env.add_user(f"ivy-{label.replace(' ', '-').lower()}", Role.INVESTIGATOR)
    sue = env.add_user(f"sue-{label.replace(' ', '-').lower()}", Role.SUPERVISOR)
    info = env.services.watchlists.propose(
        ivy,
        label,
        [("p.jpg", portrait.read_bytes())],
        basis="court order",
        reference="AZ 1",
        expires=datetime.now(UTC) + timedelta(days=10),
    )
    env.services.watchlists.approve(sue, info.id)
    return info.id


def matching_alert(env: Env, camera: int) -> int:
    """Store a sighting whose descriptor is a reference photo's own: it raises an alert.

    Each call's sighting is minutes from the others, so none joins an earlier alert.
    """
    with env.services.db.read() as session:
        reference = decode(session.scalars(select(WatchlistPhoto.embedding).limit(1)).one())
        earlier = session.scalar(select(func.count(AlertRow.id))) or 0
    at = datetime.now(UTC) - timedelta(minutes=1 + 5 * earlier)
    (sighting,) = store_sightings_at(env, camera, reference[np.newaxis, :], at)
    with env.services.db.write() as session:
        (alert,) = env.services.analytics.matcher.match(session, [sighting])
        return alert.id
