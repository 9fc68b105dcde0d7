"""The web UI in Chromium against a running `vigil up` with a simulated camera.

Each role signs in through the login form and works the way its people do: an operator
watches live video and plays back the timeline, two operators confirm an alert, an
investigator opens a case that a supervisor approves, searches it with a photo, confirms
results and downloads the report; an auditor reads the log, an admin the health. Every
page is saved as a screenshot (test-artifacts/ui-*.png), no page may log a console error,
and every action must be in the audit log.
"""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import update

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env
from tests.investigations.world import hopper, mirrored
from tests.sightings import approved_entry, store_sightings_at
from tests.web.browser import screenshot_path
from tests.web.served import Served, served
from vigil.auth.roles import Role
from vigil.store.models import Camera, SightingRow

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEEN = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
LAST_MONTH = f"{datetime.now(UTC).replace(day=1) - timedelta(days=1):%Y-%m}"
PEOPLE = {
    "olga": Role.OPERATOR,
    "otto": Role.OPERATOR,
    "ivy": Role.INVESTIGATOR,
    "sue": Role.SUPERVISOR,
    "aud": Role.AUDITOR,
    "dana": Role.DPO,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, portrait_path: Path) -> Iterator[Served]:
    def prepare(env: Env) -> None:
        for name, role in PEOPLE.items():
            env.services.users.create(env.local(), name, str(role), PASSWORD)
            if role in (Role.OPERATOR, Role.INVESTIGATOR):
                env.services.groups.grant(env.local(), "city", name)
        # Grace Hopper passed the gate three times yesterday (within the biometric
        # retention); one sighting matches an approved watchlist entry of her (an alert).
        approved_entry(env, portrait_path)
        face = hopper(portrait_path)
        with env.services.db.read() as session:
            gate = session.query(Camera).filter_by(name="gate").one().id
        noise = np.random.default_rng(5).normal(scale=0.01, size=(3, face.descriptor.size))
        ids = store_sightings_at(env, gate, (face.descriptor + noise).astype(np.float32), SEEN)
        with env.services.db.write() as session:
            session.execute(
                update(SightingRow).where(SightingRow.id.in_(ids)).values(crop=face.crop_jpeg)
            )
            env.services.analytics.matcher.match(session, ids[:1])

    with served(tmp_path_factory.mktemp("ui"), portrait_path, prepare) as running:
        yield running


class Session:
    """One person's browser: signs in, visits pages, keeps their console errors."""

    def __init__(self, browser: Browser, server: Served, user: str, after: str = "") -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context(
            timezone_id="UTC", accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(f"{server.base}/login{after}")
        self.page.get_by_label("User").fill(user)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        # The next page's document, not its images: a live wall's snapshots can keep its
        # load event waiting past the timeout on a loaded machine.
        self.page.wait_for_url(lambda url: "/login" not in url, wait_until="domcontentloaded")

    def visit(self, path: str, shot: str) -> Page:
        self.page.goto(self.server.base + path)
        self.shot(shot)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=screenshot_path(f"ui-{name}"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


def _entries(server: Served, action: str) -> list[dict[str, object]]:
    page = server.get(f"/api/v1/audit/entries?action={action}&limit=100")
    entries: list[dict[str, object]] = page["entries"]
    return entries


@pytest.mark.parametrize(
    "target",
    [
        "/%5Cevil.example/x",
        "/%09/evil.example",
        "//evil.example",
        "https://evil.example/",
        "/%0a/evil.example",
    ],
)
def test_signing_in_never_leads_off_the_site(browser: Browser, server: Served, target: str) -> None:
    olga = Session(browser, server, "olga", after=f"?next={target}")
    olga.page.wait_for_load_state("domcontentloaded")  # its scripts ran: none led away
    assert urlsplit(olga.page.url).netloc == urlsplit(server.base).netloc
    assert urlsplit(olga.page.url).path == "/cameras"  # her start page
    olga.close()


def test_a_forged_forwarded_for_is_not_believed(server: Served) -> None:
    """`vigil up` behind no proxy: a local caller's X-Forwarded-For is neither its client
    address for the limits nor what the audit records."""
    forged = urllib.request.Request(  # noqa: S310 - the test server
        f"{server.base}/api/v1/users",
        headers={"Authorization": f"Bearer {server.admin_token}", "X-Forwarded-For": "6.6.6.6"},
    )
    with urllib.request.urlopen(forged, timeout=10) as answer:  # noqa: S310 - ours
        assert answer.status == 200
    (entry,) = [e for e in _entries(server, "user.list") if e["actor"] == "admin"][:1]
    details = entry["details"]
    assert isinstance(details, dict)
    assert details["client"] == "127.0.0.1"


def test_signing_in_returns_to_the_page_asked_for(browser: Browser, server: Served) -> None:
    olga = Session(browser, server, "olga", after="?next=%2Falerts%3Fstate%3Dpending")
    assert olga.page.url == f"{server.base}/alerts?state=pending"
    olga.close()


def test_an_operator_watches_live_video_and_plays_back(browser: Browser, server: Served) -> None:
    olga = Session(browser, server, "olga")
    page = olga.page
    assert page.url.endswith("/cameras")  # operators land on the live wall
    page.wait_for_function("() => document.querySelector('video.live').currentTime > 0")
    deadline = time.monotonic() + 20
    while not page.locator(".badge.state-online").count() and time.monotonic() < deadline:
        time.sleep(1)  # the recorder saves health every 2 s
        olga.visit("/cameras", "wall")
    assert page.locator(".badge.state-online").count() == 1
    page.wait_for_function("() => document.querySelector('video.live').currentTime > 0")
    olga.shot("wall")
    deadline = time.monotonic() + 30
    while True:  # wait until the recorder closed a segment for the timeline
        olga.visit("/cameras/gate", "camera")
        if page.locator("#timeline .rec").count() or time.monotonic() > deadline:
            break
        time.sleep(2)
    page.wait_for_function("() => document.getElementById('live').currentTime > 0")
    first = page.evaluate("document.getElementById('live').currentTime")
    time.sleep(2)
    assert page.evaluate("document.getElementById('live').currentTime") > first + 1
    assert page.locator("#state").text_content() == "live"
    page.locator("#timeline .rec").first.click()
    page.wait_for_function("() => document.getElementById('playback').readyState >= 2")
    olga.shot("camera-playback")
    olga.visit("/watchlist", "watchlist-operator")
    olga.close()


def test_an_alert_is_confirmed_by_two_different_people(browser: Browser, server: Served) -> None:
    olga = Session(browser, server, "olga")
    page = olga.visit("/alerts", "alerts")
    card = page.locator("#alert-1")  # the seeded one (the live camera may raise more)
    faces = card.locator("img")
    for n in range(2):  # the face seen beside the watchlist photo
        assert faces.nth(n).evaluate("img => img.complete && img.naturalWidth > 0"), n
    assert "Pending" in card.text_content()
    card.get_by_role("button", name="Confirm match").click()
    page.wait_for_load_state()
    page.get_by_text("Confirmed by olga").wait_for()
    assert card.get_by_role("button", name="Confirm match").is_disabled()
    olga.shot("alerts-confirmed-once")
    olga.close()

    otto = Session(browser, server, "otto")
    page = otto.visit("/alerts", "alerts-second")
    page.locator("#alert-1").get_by_role("button", name="Confirm match").click()
    page.get_by_text("Actionable: confirmed by olga and otto").wait_for()
    otto.shot("alerts-actionable")
    otto.close()
    actors = sorted(str(e["actor"]) for e in _entries(server, "alert.confirm"))
    assert actors == ["olga", "otto"]


def test_a_case_is_opened_approved_searched_and_reported(
    browser: Browser, server: Served, portrait_path: Path, tmp_path: Path
) -> None:
    ivy = Session(browser, server, "ivy")
    page = ivy.page
    assert page.url.endswith("/cases")  # investigators land on their cases
    ivy.shot("cases")
    page.get_by_label("Subject (who is sought)").fill("woman seen at the gate")
    page.get_by_label("Legal basis").fill("StPO 163")
    page.get_by_label("Reference (warrant, file number)").fill("AZ 12/26")
    page.get_by_label("Purpose").fill("find a missing person")
    page.get_by_label("gate").check()
    page.get_by_label("Scope from").fill(f"{SEEN - timedelta(hours=6):%Y-%m-%dT%H:%M}")
    page.get_by_label("Scope to").fill(f"{SEEN + timedelta(hours=6):%Y-%m-%dT%H:%M}")
    page.get_by_label("Case expires").fill(
        f"{datetime.now(UTC) + timedelta(days=30):%Y-%m-%dT%H:%M}"
    )
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url("**/cases/*")
    case_path = page.url.removeprefix(server.base)
    assert page.locator("h1").text_content().strip().endswith("requested")
    ivy.shot("case-requested")

    sue = Session(browser, server, "sue")
    assert sue.page.url.endswith("/cases")  # supervisors land on cases
    sue.visit(case_path, "case-to-decide")
    sue.page.get_by_role("button", name="Approve case").click()
    sue.page.get_by_text("approved by sue").wait_for()
    sue.visit("/cases", "cases-supervisor")
    sue.close()

    ivy.visit(case_path, "case-approved")
    page.get_by_label("Photos of the person (1 to 5)").set_input_files(str(portrait_path))
    page.get_by_role("button", name="Search").click()
    page.locator("tbody input[name=sighting_ids]").first.wait_for()
    rows = page.locator("tbody input[name=sighting_ids]")
    assert rows.count() == 3
    ivy.shot("case-results")
    for n in range(rows.count()):
        rows.nth(n).check()
    page.get_by_role("button", name="Confirm selected").click()
    page.locator("td", has_text="ivy").first.wait_for()
    with page.expect_download() as html_download:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = tmp_path / "report.html"
    html_download.value.save_as(report)
    assert "Movement report, case" in report.read_text()
    assert _raw_times(_html_text(report.read_text())) == []
    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download report (PDF)").click()
    assert pdf_download.value.suggested_filename.endswith(".pdf")
    ivy.shot("case-reported")
    ivy.close()
    for action, actor in (
        ("case.open", "ivy"),
        ("case.approve", "sue"),
        ("case.search", "ivy"),
        ("case.confirm", "ivy"),
        ("case.report", "ivy"),
    ):
        assert [e["actor"] for e in _entries(server, action)] == [actor] * (
            2 if action == "case.report" else 1
        ), action


def _third_party(admin: Session) -> None:
    """An admin registers an insurer, issues it a key for the gate, and revokes it."""
    page = admin.page
    page.get_by_label("Short name").fill("insurer")
    page.get_by_label("Name in its watermark").fill("Insurer Ltd")
    page.get_by_label("Purpose of its access").fill("claims at the gate")
    page.get_by_role("button", name="Register organisation").click()
    form = page.get_by_role("form", name="New key for insurer")
    form.get_by_label("gate").check()
    now = datetime.now(UTC)  # the browser's time zone is UTC
    form.get_by_label("Valid from").fill(now.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Valid until").fill((now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Quota (seconds of video)").fill("1800")
    form.get_by_role("button", name="Issue key to insurer").click()
    form.get_by_text("shown only once: vigilorg_").wait_for()
    admin.shot("admin-key-issued")
    admin.visit("/admin", "admin-keys")
    key = page.locator("#keys tr", has_text="Insurer Ltd")
    expect(key.locator("td").nth(2)).to_have_text("gate")
    expect(key.locator("td").nth(5)).to_have_text("awaiting approval")  # a second person
    key_id = key.locator("td").nth(1).inner_text().split()[0]
    granted = vigil(admin.server.data_dir, "camera", "grant", "city", "sue")  # gate's group
    assert granted.code == 0, granted.stderr
    login = ("--user", "sue", "--password-file", "-")
    approved = vigil(admin.server.data_dir, *login, "org", "approve", key_id, stdin=PASSWORD)
    assert approved.code == 0, approved.stderr
    admin.visit("/admin", "admin-keys-approved")
    expect(key.locator("td").nth(5)).to_have_text("active")
    key.get_by_role("button", name=re.compile("Revoke key")).click()
    expect(key.locator("td").nth(5)).to_have_text("revoked")
    assert [e["actor"] for e in _entries(admin.server, "partner_key.revoke")] == ["admin"]


def test_auditor_and_admin_pages(browser: Browser, server: Served) -> None:
    aud = Session(browser, server, "aud")
    assert aud.page.url.endswith("/audit")
    assert aud.page.get_by_text("Verified:").count() == 1
    aud.page.get_by_label("Action").fill("user.create")
    aud.page.get_by_role("button", name="Filter").click()
    aud.page.wait_for_url("**/audit?*")
    assert aud.page.locator("tbody tr").count() >= len(PEOPLE)
    aud.shot("audit")
    refused = aud.page.goto(f"{server.base}/admin")  # not in her menu: typed by hand
    assert refused is not None
    assert refused.status == 403
    assert aud.page.get_by_role("alert").count() == 1
    aud.shot("admin-refused")
    # Chromium logs every 4xx document as an error; that one is this deliberate refusal.
    assert aud.errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    aud.errors.clear()
    # She publishes last month's report; anyone then reads it, its chart drawn.
    aud.visit("/transparency", "transparency-to-publish")
    aud.page.get_by_label("Month (ended, not yet published)").select_option(LAST_MONTH)
    aud.page.get_by_role("button", name="Publish the report").click()
    expect(aud.page.locator("#month-title")).to_have_text(LAST_MONTH)
    aud.close()
    anyone = browser.new_page()
    anyone.goto(f"{server.base}/transparency")
    expect(anyone.locator("#month-title")).to_have_text(LAST_MONTH)
    assert anyone.locator("svg.chart rect").count() == 6  # a bar per count, one month
    anyone.screenshot(path=screenshot_path("ui-transparency-published"), full_page=True)
    anyone.close()

    admin = Session(browser, server, "admin")
    assert admin.page.url.endswith("/admin")
    admin.shot("admin")
    assert admin.page.locator("td", has_text="gate").count() >= 1
    admin.page.get_by_label("Group", exact=True).select_option("city")
    admin.page.get_by_label("User", exact=True).select_option("aud")
    admin.page.get_by_role("button", name="Grant").click()
    members = admin.page.locator("td", has_text=re.compile(r"\baud\b.*\bolga\b"))
    expect(members).to_have_count(1)  # the groups table, after the page reloaded
    page = admin.page
    assert "ivy" not in page.get_by_label("For user").inner_text()  # she makes her own
    page.get_by_label("For user").select_option("aud")
    page.get_by_label("Label").fill("reports")
    page.get_by_role("button", name="Create token").click()
    page.get_by_text("shown only once: vigil_").wait_for()
    admin.shot("admin-token-created")
    admin.visit("/admin", "admin-tokens")
    token = page.locator("#tokens tr", has_text="reports")
    expect(token.locator("td").nth(3)).to_have_text("admin")  # made by her for the auditor
    token.get_by_role("button", name="Revoke").click()
    expect(token.locator("td").nth(6)).to_have_text("yes")
    page.get_by_role("button", name="Disable otto").click()
    otto = page.locator("#users tr", has=page.locator("td", has_text=re.compile("^otto$")))
    expect(otto.locator("td").nth(3)).to_have_text("yes")
    _third_party(admin)
    admin.close()
    assert [e["actor"] for e in _entries(server, "token.revoke")] == ["admin"]
    assert [e["target"] for e in _entries(server, "user.disable")] == ["user:otto"]
    by_admin = [e for e in _entries(server, "camera_group.grant") if e["actor"] == "admin"]
    assert [e["target"] for e in by_admin] == ["camera_group:city"]


def test_a_subject_request_is_taken_approved_answered_and_erased(
    browser: Browser, server: Served, portrait_path: Path, tmp_path: Path
) -> None:
    """Grace Hopper asks what is held about her, with a photo of her own (not the one the
    cameras saw); a supervisor approves; the DPO downloads her answer and erases."""
    photo = tmp_path / "hers.jpg"
    photo.write_bytes(mirrored(portrait_path))
    dana = Session(browser, server, "dana")
    page = dana.page
    assert page.url.endswith("/subjects")  # DPOs land on the requests
    assert page.get_by_role("link", name="Live wall").count() == 0  # no video for a DPO
    page.get_by_label("Your file reference").fill("DPO-2026-7")
    page.get_by_label("Identity checked by (who, and how)").fill("dana, passport")
    page.get_by_label("The requester's photos (1 to 5)").set_input_files(str(photo))
    page.get_by_role("button", name="Take request").click()
    row = page.locator("tbody tr", has_text="DPO-2026-7")
    expect(row.locator("td").nth(2)).to_have_text("requested")
    assert row.get_by_role("button", name=re.compile("Approve request")).count() == 0  # hers
    dana.shot("subject-requested")

    sue = Session(browser, server, "sue")
    sue.visit("/subjects", "subject-to-decide")
    sue.page.get_by_role("button", name=re.compile("Approve request")).click()
    decided = sue.page.locator("tbody tr", has_text="DPO-2026-7")
    expect(decided.locator("td").nth(2)).to_have_text("answered")
    assert decided.get_by_role("button", name=re.compile("Answer")).count() == 0  # dana's
    sue.close()

    dana.visit("/subjects", "subject-to-review")
    assert row.get_by_role("button", name="Answer (HTML)").count() == 0  # not before review
    review = page.get_by_role("form", name=re.compile("Review request"))
    expect(review).to_contain_text("within the match point")  # what each face's evidence is
    expect(review).to_contain_text("false-match estimate")
    for box in review.get_by_role("checkbox").all():  # all hers: the walker is her portrait
        box.check()
    review.get_by_role("button", name=re.compile("Review request")).click()
    row.get_by_role("button", name="Answer (HTML)").wait_for()
    dana.shot("subject-answered")
    # Her three sightings at the gate, and those the simulator's camera (her portrait
    # walking) made during the live test.
    expect(row.locator("td").nth(6)).to_have_text(re.compile(r"^\d+ of \d+$"))
    found = int(row.locator("td").nth(6).inner_text().split()[0])
    assert found >= 3
    with page.expect_download() as download:
        row.get_by_role("button", name="Answer (HTML)").click()
    answer = tmp_path / "answer.html"
    download.value.save_as(answer)
    text = answer.read_text()
    assert "What Vigil holds about you" in text
    assert text.count('class="face"') == found  # each with its picture
    assert "AZ 12/26" not in text  # no case's reference
    assert _raw_times(_html_text(text)) == []
    row.get_by_role("button", name="Erase what nothing keeps").click()
    expect(row.locator("td").nth(2)).to_have_text("erased")
    dana.shot("subject-erased")
    dana.close()
    for action, actor in (
        ("subject.request", "dana"),
        ("subject.approve", "sue"),
        ("subject.review", "dana"),
        ("subject.report", "dana"),
        ("subject.erase", "dana"),
    ):
        assert [e["actor"] for e in _entries(server, action)] == [actor], action


# What a time looks like when it was not written for people: ISO's "T", microseconds, or
# Python's str() with its offset ("2026-12-04 18:53:08.898432+00:00").
RAW_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}\.\d{3,}|\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}"
)
# The page's text as read, without JSON and code shown as such (where ISO stays).
VISIBLE_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    if (!walker.currentNode.parentElement.closest("pre, code, script, style")) {
      parts.push(walker.currentNode.textContent);
    }
  }
  return parts.join(" ");
}"""
DETAILS = 'a[href^="/cameras/"], a[href^="/cases/"], a[href^="/events/"]'


def _raw_times(text: str) -> list[str]:
    return RAW_TIME.findall(text)


def _html_text(page: str) -> str:
    """A report's text: tags, and the JSON and code it shows as such, left out."""
    page = re.sub(r"(?s)<(pre|code|script|style)\b.*?</\1>", " ", page)
    return re.sub(r"<[^>]+>", " ", page)


def test_no_page_shows_a_raw_iso_time(browser: Browser, server: Served) -> None:
    """Every page each role reaches from its menu, and the pages those link to (a camera,
    a case, an event), read with their scripts run: times are the city's, to the second."""
    seen: dict[str, list[str]] = {}
    for name in ("admin", *(p for p in PEOPLE if p != "otto")):  # otto is disabled above
        person = Session(browser, server, name)
        menu = person.page.locator("nav a").evaluate_all("links => links.map(a => a.pathname)")
        for path in menu:
            person.visit(path, f"times-{name}-{path.strip('/')}")
            person.page.wait_for_timeout(400)  # its scripts fill it in (live video never idles)
            seen[f"{name} {path}"] = _raw_times(person.page.evaluate(VISIBLE_TEXT))
            links = person.page.locator(DETAILS).evaluate_all("as => as.map(a => a.pathname)")
            for detail in sorted(set(links))[:2]:
                person.page.goto(server.base + detail)
                person.page.wait_for_timeout(400)  # its scripts fill it in (live video never idles)
                seen[f"{name} {detail}"] = _raw_times(person.page.evaluate(VISIBLE_TEXT))
        person.close()
    anonymous = browser.new_page()
    for path in ("/public", "/login"):
        anonymous.goto(server.base + path)
        seen[f"anyone {path}"] = _raw_times(anonymous.evaluate(VISIBLE_TEXT))
    anonymous.close()
    assert len(seen) >= 20
    assert {page: found for page, found in seen.items() if found} == {}
