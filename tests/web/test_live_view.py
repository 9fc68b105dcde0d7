"""Live view in a real browser: `vigil up` recording a simulated camera, watched in Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import PASSWORD, make_env
from tests.streams import Simulator, free_port, people_folder
from tests.web.browser import launch, screenshot_path
from vigil.auth.roles import Role
from vigil.cameras.registry import CameraSpec
from vigil.sim.server import wait_until_serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PLAYHEAD = """() => {
  const v = document.getElementById("live");
  return {
    time: v.currentTime,
    start: v.buffered.length ? v.buffered.start(0) : null,
    end: v.buffered.length ? v.buffered.end(v.buffered.length - 1) : null,
    state: document.getElementById("state").textContent,
  };
}"""


@pytest.fixture
def served(tmp_path: Path, portrait_path: Path) -> Iterator[tuple[str, str]]:
    """A running `vigil up` recording one simulated camera; yields (base URL, viewer token)."""
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    with Simulator(people_folder(tmp_path, portrait_path)) as sim:
        env.services.cameras.add(env.local(), CameraSpec("gate", sim.url(), group="city"))
        env.services.users.create(env.local(), "olga", str(Role.OPERATOR), PASSWORD)
        env.services.groups.grant(env.local(), "city", "olga")
        _, token = env.services.tokens.create(env.local(), "olga")
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
            base = f"http://127.0.0.1:{port}"
            _wait_live(base, token)
            yield base, token
        finally:
            up.terminate()
            up.wait(20)


def _wait_live(base: str, token: str) -> None:
    deadline = time.monotonic() + 30
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        url = f"{base}/api/v1/cameras/gate/status"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own http URL
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            status = json.load(response)
        if status["live"]:
            return
        time.sleep(0.5)
    raise TimeoutError("the camera never went live")


def test_live_view_plays_in_chromium_within_six_seconds(served: tuple[str, str]) -> None:
    base, token = served
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        # The stream's first frame was captured at this wall-clock time (the server says).
        live_starts: list[float] = []
        page.on(
            "response",
            lambda r: (
                live_starts.append(float(r.headers["x-vigil-live-start"]))
                if "x-vigil-live-start" in r.headers
                else None
            ),
        )
        page.goto(f"{base}/cameras/gate/live")
        page.wait_for_function("() => document.getElementById('live').currentTime > 0")
        first = page.evaluate(PLAYHEAD)
        started = time.monotonic()
        time.sleep(4)
        later = page.evaluate(PLAYHEAD)
        now = time.time()
        elapsed = time.monotonic() - started
        page.screenshot(path=screenshot_path("live-view"))
        browser.close()
    played = later["time"] - first["time"]
    # The frame on screen was captured at live_start + (playhead - first buffered time).
    (live_start,) = live_starts
    latency = now - (live_start + later["time"] - first["start"])
    print(f"\nplayed {played:.2f} s in {elapsed:.2f} s; latency {latency:.2f} s")
    assert played >= 0.75 * elapsed
    assert latency <= 6.0
    assert first["state"] == "live"
    assert errors == []
