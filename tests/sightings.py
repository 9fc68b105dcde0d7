"""Sightings with chosen descriptors, stored as analysis stores them (for index and expiry)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from tests.conftest import Env
from vigil.analytics.analyzer import Sighting
from vigil.analytics.sightings import store_sightings
from vigil.faces.model import Box
from vigil.faces.quality import Quality


def sightings_at(vectors: np.ndarray, at: datetime) -> list[Sighting]:
    return [
        Sighting(
            start=(at + timedelta(minutes=i)).timestamp(),
            end=(at + timedelta(minutes=i, seconds=5)).timestamp(),
            box=Box(0, 0, 50, 50),
            quality=Quality(50, 100.0, 0.9),
            crop_jpeg=b"",
            embedding=v.astype(np.float32),
            faces=1,
        )
        for i, v in enumerate(vectors)
    ]


def store_sightings_at(env: Env, camera: int, vectors: np.ndarray, at: datetime) -> list[int]:
    with env.services.db.write() as session:
        return store_sightings(session, camera, sightings_at(vectors, at), source="test")
