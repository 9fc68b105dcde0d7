"""The API on a full disk (a tmpfs the test mounts and fills): every answer keeps the JSON
error shape with its request id, nothing changes, and the log is not flooded."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_env
from tests.disks import fill
from vigil.api.app import create_api

MIB = 1024 * 1024


def test_on_a_full_disk_requests_get_a_json_507_and_change_nothing(
    small_disk: Callable[[int], Path], caplog: pytest.LogCaptureFixture
) -> None:
    disk = small_disk(32 * MIB)
    env = make_env(disk / "data", f"sqlite:///{disk / 'data' / 'vigil.db'}")
    try:
        _, token = env.services.tokens.create(env.local(), "admin")
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(create_api(env.services)) as client:
            assert client.get("/api/v1/cameras", headers=headers).status_code == 200
            fill(disk)
            caplog.set_level(logging.INFO)
            answers = []
            for i in range(200):  # SQLite may still have room in its log file for a few
                body = {"name": f"cam-{i}", "url": "rtsp://10.0.0.9/stream", "group": "city"}
                answers.append(client.post("/api/v1/cameras", json=body, headers=headers))
                if len(answers) > 20 and answers[-1].status_code == 507:
                    break
            refused = [a for a in answers if a.status_code != 201]
            assert refused
            assert {a.status_code for a in refused} == {507}
            for answer in refused:
                assert answer.headers["content-type"] == "application/json"
                assert answer.json()["error"]["code"] == "disk_full"
                assert answer.json()["request_id"] == answer.headers["x-request-id"]
            read = client.get("/api/v1/cameras", headers=headers)  # reads are audited too
            assert read.status_code == 507
            assert read.json()["error"]["code"] == "disk_full"

            (disk / "filler").unlink()
            listed = client.get("/api/v1/cameras", headers=headers)
            assert listed.status_code == 200
            names = {c["name"] for c in listed.json()}
            accepted = {f"cam-{i}" for i, a in enumerate(answers) if a.status_code == 201}
            assert names == accepted  # a refused request changed nothing
    finally:
        env.services.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) <= 2, [r.getMessage() for r in errors]  # one line per kind a minute
    assert not any(r.exc_info for r in errors if "disk" in r.getMessage())
