"""Live view in a real browser: `vigil up` recording a simulated camera, watched in Chromium."""

from __future__ import annotations

import contextlib
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import PASSWORD, Env
from tests.web.browser import launch, screenshot_path
from tests.web.served import served
from vigil.auth.roles import Role

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
def viewer_token(tmp_path: Path, portrait_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A running `vigil up` recording one simulated camera; yields (base URL, viewer token)."""
    tokens: list[str] = []

    def prepare(env: Env) -> None:
        env.services.users.create(env.local(), "olga", str(Role.OPERATOR), PASSWORD)
        env.services.groups.grant(env.local(), "city", "olga")
        tokens.append(env.own_token("olga"))

    with served(tmp_path, portrait_path, prepare) as server:
        yield server.base, tokens[0], server.data_dir


def test_live_view_plays_in_chromium_within_six_seconds(
    viewer_token: tuple[str, str, Path],
) -> None:
    base, token, data_dir = viewer_token
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
    # The data directory was made by this test process (umask 022: 0644 files, 0755
    # folders); `vigil up` made it private, and what it wrote since is private too: the
    # database's -wal and -shm, the media folders and segments.
    paths = [data_dir, *data_dir.rglob("*")]
    names = {p.name for p in paths}
    assert {"vigil.db", "vigil.db-wal", "vigil.db-shm", "media"} <= names
    assert any(p.suffix == ".mp4" for p in paths)
    public = {}
    for path in paths:
        with contextlib.suppress(FileNotFoundError):  # a segment being finished moves
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode != (0o700 if path.is_dir() else 0o600):
                public[str(path.relative_to(data_dir))] = oct(mode)
    assert public == {}
