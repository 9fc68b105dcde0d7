"""Recordings from the command line: status, groups, export and evidence holds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import av

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env, make_env
from tests.recorded import add_camera, record


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def test_show_export_and_holds(tmp_path: Path) -> None:
    env: Env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    camera = add_camera(env, "gate", group="north")
    start = time.time() - 300
    segments = record(env, camera, start, 6)
    env.services.segments.open_gap(camera, datetime.now(UTC), "source lost")
    env.services.close()
    data = env.data_dir
    as_admin = ("--user", "admin", "--password-file", str(tmp_path / "pw"))
    (tmp_path / "pw").write_text(PASSWORD)

    shown = vigil(data, "camera", "show", "gate", "--json")
    assert shown.code == 0, shown.stderr
    status = shown.json()
    assert status["coverage"]["segments"] == 3
    assert status["coverage"]["seconds"] == 6.0
    assert status["coverage"]["first"] == segments[0].start.isoformat()
    (gap,) = status["gaps"]
    assert (gap["end"], gap["reason"]) == (None, "source lost")
    assert status["health"] is None  # no recorder has run on this data directory

    out = tmp_path / "clip.mp4"
    span = ("--from", _iso(start), "--to", _iso(start + 6))
    refused = vigil(data, *as_admin, "camera", "export", "gate", *span, "--out", str(out))
    assert refused.code == 6
    assert "camera groups" in refused.stderr
    assert vigil(data, "camera", "grant", "north", "admin").code == 0
    groups = vigil(data, "camera", "groups", "--json").json()
    assert groups == [{"name": "north", "cameras": ["gate"], "members": ["admin"]}]
    exported = vigil(
        data, *as_admin, "camera", "export", "gate", *span, "--out", str(out), "--json"
    )
    assert exported.code == 0, exported.stderr
    assert exported.json()["segments"] == 3
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 60

    held = vigil(data, *as_admin, "camera", "hold", "gate", *span, "--reason", "case 9", "--json")
    assert held.code == 0, held.stderr
    hold_id = held.json()["id"]
    (listed,) = vigil(data, *as_admin, "camera", "holds", "--json").json()
    assert listed["reason"] == "case 9"
    removed = vigil(data, "camera", "remove", "gate")
    assert removed.code == 4
    assert "recorded segments" in removed.stderr
    assert vigil(data, *as_admin, "camera", "release", str(hold_id)).code == 0
    assert vigil(data, *as_admin, "camera", "holds", "--json").json() == []

    disabled = vigil(data, "camera", "disable", "gate", "--json")
    assert disabled.json()["enabled"] is False
    times = ("--from", "soon", "--to", "later")
    bad = vigil(data, *as_admin, "camera", "export", "gate", *times, "--out", str(out))
    assert bad.code == 2
    assert "not an ISO 8601 time" in bad.stderr
