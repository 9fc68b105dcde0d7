"""The event wall in Chromium: an operator watches an event's live counts, total, peak and
chart update as new counts are stored, and the place that goes over its limit."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import PASSWORD, Env
from tests.web.browser import launch, screenshot_path
from tests.web.served import Served, served
from vigil.app import open_services
from vigil.auth.roles import Role
from vigil.cameras.registry import CameraSpec
from vigil.crowds.counting import Count
from vigil.crowds.events import EventSpec, store_counts
from vigil.store.models import Camera

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _event(env: Env) -> None:
    env.add_user("ada", Role.ADMIN)
    env.services.cameras.add(
        env.local(), CameraSpec("hall", "rtsp://127.0.0.1:9/hall", group="city")
    )
    env.add_user("olga", Role.OPERATOR, groups=("city",))
    env.add_user("sue", Role.SUPERVISOR, groups=("city",))
    now = datetime.now(UTC)
    spec = EventSpec("city fair", "city", now - timedelta(minutes=5), now + timedelta(hours=1),
                     limits={"hall": 6}, total_limit=50)  # fmt: skip
    env.services.events.create(env.acting("sue"), spec)


def _counted(server: Served, people: list[int]) -> None:
    """Counts of the hall, as its analysis would store them, ending now."""
    services = open_services(server.data_dir)
    try:
        with services.db.write() as session:
            hall = session.query(Camera).filter_by(name="hall").one().id
            now = time.time()
            counts = [Count(now - 2 * (len(people) - 1 - i), n) for i, n in enumerate(people)]
            store_counts(session, hall, None, counts)
    finally:
        services.close()


def test_the_event_wall_shows_live_counts(tmp_path: Path, portrait_path: Path) -> None:
    with served(tmp_path, portrait_path, _event) as server, sync_playwright() as playwright:
        _counted(server, [2, 3, 4])
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server.base}/login")
        page.get_by_label("User").fill("olga")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.get_by_role("link", name="Events").click()
        page.get_by_role("link", name="city fair").click()
        hall = page.locator('[data-count="hall"]')
        expect(hall).to_have_text("4")
        expect(page.locator("#chart polyline")).not_to_have_count(0)
        _counted(server, [8])  # the hall fills up: over its limit of 6
        expect(hall).to_have_text("8", timeout=15_000)  # the page refreshes by itself
        expect(hall).to_have_class("badge count over")
        expect(page.locator("#occupancy")).to_contain_text("hall: 8 people (limit 6)")
        expect(page.locator("#total-peak")).not_to_have_text("none yet")
        page.wait_for_timeout(1500)  # the live tile of the gate starts playing
        page.screenshot(path=screenshot_path("event-wall"), full_page=True)
        total = page.locator("#total-now").inner_text()
        _zone_marked(browser, server)
        browser.close()
    print(f"\nevent wall: hall 8 (over its limit of 6), total now {total}")
    assert errors == []


def _signed_in(browser: Browser, server: Served, user: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.base}/login")
    page.get_by_label("User").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _zone_marked(browser: Browser, server: Served) -> None:
    """The admin proposes the fair as a no-identification zone; the supervisor approves."""
    ada = _signed_in(browser, server, "ada")
    ada.goto(f"{server.base}/zones")
    ada.get_by_label("or an event").select_option("city fair")
    ada.get_by_label("Why no one may be identified there").fill("a protected assembly")
    ada.get_by_role("button", name="Propose zone").click()
    expect(ada.locator("#zones")).to_contain_text("awaiting approval")
    expect(ada.get_by_role("button", name="Approve zone 1")).to_have_count(0)  # not hers
    sue = _signed_in(browser, server, "sue")
    sue.get_by_role("link", name="Zones").click()
    sue.get_by_role("button", name="Approve zone 1").click()
    expect(sue.locator("#zones")).to_contain_text("in force")
    sue.screenshot(path=screenshot_path("zones"), full_page=True)
