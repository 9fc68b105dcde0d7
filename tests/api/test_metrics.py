"""Prometheus metrics: health, backlog and alerts, for admins and auditors, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Api
from tests.recorded import add_camera, record
from tests.sightings import default_width, store_sightings_at
from vigil.auth.roles import Role
from vigil.recording.records import Health, Storage


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_show_health_and_backlog(api: Api) -> None:
    camera = add_camera(api.env, "gate")
    record(api.env, camera, datetime.now(UTC).timestamp() - 30, 4)
    api.env.services.segments.save_health(
        [Health(camera, "online", datetime.now(UTC), 10.0, 250_000.0, 2, None, datetime.now(UTC))]
    )
    auditor = api.token_for("audrey", Role.AUDITOR)
    response = api.client.get("/api/v1/metrics", headers=api.bearer(auditor))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    assert samples[("vigil_camera_up", (("camera", "gate"),))] == 1.0
    assert samples[("vigil_camera_fps", (("camera", "gate"),))] == 10.0
    assert samples[("vigil_camera_reconnects", (("camera", "gate"),))] == 2.0
    assert samples[("vigil_analysis_backlog_segments", ())] == 2.0
    lag = samples[("vigil_analysis_lag_seconds", ())]
    assert timedelta(seconds=20) < timedelta(seconds=lag) < timedelta(seconds=60)
    operator = api.token_for("olga", Role.OPERATOR)
    assert api.client.get("/api/v1/metrics", headers=api.bearer(operator)).status_code == 403


def test_metrics_show_the_search_index_memory_and_its_budget(api: Api) -> None:
    camera = add_camera(api.env, "gate")
    at = datetime.now(UTC) - timedelta(hours=1)
    store_sightings_at(api.env, camera, np.full((3, default_width()), 0.05, np.float32), at)
    index = api.env.services.vectors
    index.search(np.full(index.space.dimension, 0.05, np.float32), [at.date()], [camera], 5)
    auditor = api.token_for("audrey", Role.AUDITOR)
    samples = _samples(api.client.get("/api/v1/metrics", headers=api.bearer(auditor)).text)
    held = samples[("vigil_search_index_bytes", ())]
    assert held == len(index.partitions) * index.partitions.row_bytes > 0
    configured = api.env.services.config.cases.search_memory_mib
    assert samples[("vigil_search_index_budget_bytes", ())] == configured * 2**20
    assert samples[("vigil_search_index_let_go", ())] == 0.0


def test_metrics_show_the_media_disk_and_a_camera_not_written(api: Api) -> None:
    camera = add_camera(api.env, "gate")
    now = datetime.now(UTC)
    api.env.services.segments.save_health(
        [Health(camera, "disk_full", now, 10.0, 250_000.0, 0, "full", now)]
    )
    api.env.services.segments.save_storage(
        Storage("node-1", "disk_pressure", "short", 1000, 5_000_000, 2_000_000, 40_000.0, now)
    )
    auditor = api.token_for("audrey", Role.AUDITOR)
    samples = _samples(api.client.get("/api/v1/metrics", headers=api.bearer(auditor)).text)
    assert samples[("vigil_camera_up", (("camera", "gate"),))] == 1.0  # still streaming
    assert samples[("vigil_camera_recording", (("camera", "gate"),))] == 0.0
    node = (("node", "node-1"),)
    assert samples[("vigil_storage_disk_pressure", node)] == 1.0
    assert samples[("vigil_storage_free_bytes", node)] == 1000.0
    assert samples[("vigil_storage_recorded_bytes", node)] == 5_000_000.0
    assert samples[("vigil_storage_write_bps", node)] == 40_000.0
