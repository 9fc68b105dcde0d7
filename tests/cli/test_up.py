"""`vigil up` as a service manager runs it: stopped with SIGTERM, it closes everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.cli_runner import vigil
from tests.conftest import make_env
from tests.streams import free_port, h264_file
from vigil.cameras.registry import CameraSpec
from vigil.sim.server import wait_until_serving


def _get(base: str, path: str, token: str) -> Any:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our server
        return json.load(response)


def test_sigterm_finishes_the_last_segment_and_leaks_nothing(tmp_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    clip = h264_file(env.data_dir / "imports" / "clip.mp4", 60.0)
    env.services.cameras.add(env.local(), CameraSpec("gate", f"file://{clip}", group="city"))
    _, token = env.services.tokens.create(env.local(), "admin")
    env.services.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = subprocess.Popen(
        [sys.executable, "-m", "vigil", "up", "--port", str(port)],
        env={**os.environ, "VIGIL_DATA_DIR": str(env.data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(port, process=up)
        deadline = time.monotonic() + 30
        while _get(base, "/api/v1/cameras/gate/status", token)["coverage"]["segments"] < 1:
            assert time.monotonic() < deadline, "nothing was recorded"
            time.sleep(0.3)
        # Another process (the CLI) says what the API says: the camera is live.
        assert _get(base, "/api/v1/cameras/gate/status", token)["live"] is True
        shown = vigil(env.data_dir, "camera", "show", "gate", "--json")
        assert shown.json()["live"] is True
        time.sleep(2.5)  # into the next segment
        stopped_at = time.time()
        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert up.returncode == 0, err[-2000:]
    assert "leaked" not in err
    assert "Traceback" not in err
    assert not list((env.data_dir / "media").glob("*/.*.part"))  # the last one was finished
    shown = vigil(env.data_dir, "camera", "show", "gate", "--json").json()
    last = datetime.fromisoformat(shown["coverage"]["last"])
    assert last > datetime.fromtimestamp(stopped_at - 2.5, UTC)
    assert shown["health"]["state"] == "stopped"
    assert shown["live"] is False
    (disk,) = vigil(env.data_dir, "status", "--json").json()["storage"]
    assert disk["state"] == "ok"
    assert disk["free_bytes"] > 0
