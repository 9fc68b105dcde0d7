"""A running ``vigil up`` that records a simulated camera, for tests in a real browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import Env, make_env
from tests.streams import Simulator, free_port, people_folder
from vigil.cameras.registry import CameraSpec
from vigil.sim.server import wait_until_serving


@dataclass(frozen=True)
class Served:
    base: str
    admin_token: str
    data_dir: Path

    def get(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        request = urllib.request.Request(self.base + path, headers=headers)  # noqa: S310 - ours
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)


@contextmanager
def served(
    tmp_path: Path, portrait: Path, prepare: Callable[[Env], None] = lambda _env: None
) -> Iterator[Served]:
    """`vigil up` on a data directory with camera "gate" (group "city") from the simulator.

    ``prepare`` adds what the test needs (users, data) before the server starts.
    """
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    with Simulator(people_folder(tmp_path, portrait)) as sim:
        env.services.cameras.add(env.local(), CameraSpec("gate", sim.url(), group="city"))
        prepare(env)
        _, admin = env.services.tokens.create(env.local(), "admin")
        env.services.close()
        port = free_port()
        up = subprocess.Popen(
            [sys.executable, "-m", "vigil", "up", "--port", str(port)],
            env={**os.environ, "VIGIL_DATA_DIR": str(env.data_dir)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_serving(port, process=up)
            result = Served(f"http://127.0.0.1:{port}", admin, env.data_dir)
            _wait_live(result)
            yield result
        finally:
            up.terminate()
            up.wait(20)


def _wait_live(server: Served) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.get("/api/v1/cameras/gate/status")["live"]:
            return
        time.sleep(0.5)
    raise TimeoutError("the camera never went live")
