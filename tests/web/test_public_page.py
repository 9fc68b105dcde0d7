"""The public page in a real browser: `vigil up` recording a simulated camera that two
people made public, watched in Chromium without signing in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import Env
from tests.web.browser import launch, screenshot_path
from tests.web.served import served
from vigil.auth.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _make_public(env: Env) -> None:
    env.add_user("ada", Role.ADMIN)
    env.add_user("sam", Role.SUPERVISOR, groups=("city",))
    proposal = env.services.publications.propose(env.acting("ada"), "gate", "the city gate")
    env.services.publications.approve(env.acting("sam"), proposal.id)


def test_the_public_page_plays_the_redacted_delayed_stream(
    tmp_path: Path, portrait_path: Path
) -> None:
    with served(tmp_path, portrait_path, _make_public) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()  # nobody signed in
        starts: list[float] = []
        page.on(
            "response",
            lambda r: starts.append(time.time()) if r.url.endswith("live.mp4") else None,
        )
        page.goto(f"{server.base}/public")
        assert "faces blurred" in page.inner_text("main")
        page.wait_for_function(
            "() => document.querySelector('video').currentTime > 1", timeout=90_000
        )
        state = page.locator("[data-live-state]").inner_text()
        played = page.evaluate("() => document.querySelector('video').currentTime")
        size = page.evaluate(
            "() => [document.querySelector('video').videoWidth,"
            " document.querySelector('video').videoHeight]"
        )
        page.screenshot(path=screenshot_path("public-page"))
        browser.close()
    print(f"\npublic stream: {size[0]}x{size[1]}, played {played:.1f} s, state {state!r}")
    assert state == "live"
    assert 0 < size[1] <= 720
