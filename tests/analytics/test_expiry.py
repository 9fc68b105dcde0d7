"""Unmatched sightings lose their crop and descriptor after the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import store_sightings_at
from vigil.analytics.expiry import expire_biometrics
from vigil.audit.log import EntryFilter
from vigil.store.models import AlertRow, AlertSighting, SightingRow, WatchlistEntry


def test_only_old_unmatched_sightings_are_erased(env: Env) -> None:
    camera = add_camera(env, "gate")
    now = datetime.now(UTC)
    vectors = np.full((3, 128), 0.05, dtype=np.float32)
    old_plain, old_matched = store_sightings_at(env, camera, vectors[:2], now - timedelta(hours=80))
    (recent,) = store_sightings_at(env, camera, vectors[2:], now - timedelta(hours=1))
    with env.services.db.write() as session:
        entry = WatchlistEntry(
            label="x", legal_basis="b", reference="r", created_by="ivy", created_at=now,
            expires_at=now + timedelta(days=1),
        )  # fmt: skip
        session.add(entry)
        session.flush()
        alert = AlertRow(
            entry_id=entry.id, sighting_id=old_matched, camera_id=camera, seen_at=now,
            distance=0.3, similarity=0.8, state="pending", created_at=now,
        )  # fmt: skip
        session.add(alert)
        session.flush()
        session.add(AlertSighting(alert_id=alert.id, sighting_id=old_matched))  # as matched

    assert expire_biometrics(env.services.access, timedelta(hours=72)) == 1
    assert expire_biometrics(env.services.access, timedelta(hours=72)) == 0
    with env.services.db.read() as session:
        kept = {
            row.id: row.embedding is not None and row.crop is not None
            for row in session.scalars(select(SightingRow))
        }
        (entry_log,) = env.services.audit.entries(session, EntryFilter(action="biometrics.expire"))
    assert kept == {old_plain: False, old_matched: True, recent: True}
    assert (entry_log.actor, entry_log.details["sightings"]) == ("system", 1)
