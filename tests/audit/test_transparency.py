"""The transparency report: its counts are the audit log's for the period, it is anchored
to a signed tree head and signed, and a changed number fails its check."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env
from tests.pdfs import pdf_pages, pdf_title
from tests.recorded import add_camera
from tests.sightings import matching_alert
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.audit.signing import PUBLIC_KEY_FILE
from vigil.audit.transparency import COUNTED, Period, render_html, verify_report, wilson
from vigil.auth.roles import Role
from vigil.errors import Forbidden, InvalidInput, ProofError
from vigil.investigations.cases import CaseSpec
from vigil.timetext import TimeText


def _script(env: Env, portrait: Path) -> None:
    """A month's use, compressed: cases, searches, watchlist, reviewed alerts, a camera
    made public and withdrawn."""
    s = env.services
    add_camera(env, "gate", group="ga")
    ivy = env.add_user("ivy", Role.INVESTIGATOR, groups=("ga",))
    sue = env.add_user("sue", Role.SUPERVISOR, groups=("ga",))
    ola = env.add_user("ola", Role.OPERATOR, groups=("ga",))
    ada = env.add_user("ada", Role.ADMIN)
    now = datetime.now(UTC)
    photo = [("p.jpg", portrait.read_bytes())]
    entry = s.watchlists.propose(
        ivy, "x", photo, basis="b", reference="r", expires=now + timedelta(days=9)
    )
    s.watchlists.approve(sue, entry.id)
    s.watchlists.propose(ivy, "y", photo, basis="b", reference="r", expires=now + timedelta(days=9))
    spec = CaseSpec(
        "s", "b", "r", "p", now - timedelta(days=1), now, now + timedelta(days=5), cameras=["gate"]
    )
    cases = [s.cases.open(ivy, spec).id for _ in range(3)]
    s.cases.approve(sue, cases[0])
    s.cases.approve(sue, cases[1])
    s.cases.reject(sue, cases[2])
    s.search.search(ivy, cases[0], photo)
    s.search.search(ivy, cases[0], photo)
    camera = s.cameras.show(env.local(), "gate").id
    confirmed, rejected, pending = (matching_alert(env, camera) for _ in range(3))
    s.alerts.confirm(ola, confirmed)
    s.alerts.confirm(sue, confirmed)
    s.alerts.reject(ola, rejected)
    s.alerts.confirm(ola, pending)  # one confirmation: not yet reviewed to the end
    publication = s.publications.propose(ada, "gate", "the gate")
    s.publications.approve(sue, publication.id)
    s.publications.withdraw(ada, publication.id)
    dpo = env.add_user("dpo", Role.DPO)
    asked = [
        s.subjects.open(dpo, photo, reference=f"D{n}", identity_checked_by="at the desk").id
        for n in range(3)
    ]
    s.subjects.approve(sue, asked[0], restriction="an investigation would be prejudiced")
    s.subjects.approve(sue, asked[1])
    s.subjects.reject(sue, asked[2], "the photo is not of the requester")
    s.subject_review.review(dpo, asked[1], [])
    s.erasure.erase(dpo, asked[1])
    with pytest.raises(Forbidden):
        s.cases.approve(ivy, cases[2])  # a refusal is in the log but counts for nothing


def _logged(env: Env, period: Period, action: str) -> list[dict[str, object]]:
    start, end = period.micros
    with env.services.db.read() as session:
        found = env.services.audit.entries(
            session, EntryFilter(action=action, since_us=start, until_us=end, limit=1000)
        )
    return [dict(e.details) for e in found if e.outcome == Outcome.ALLOWED]


def test_the_counts_are_the_audit_logs_for_the_period(env: Env, portrait_path: Path) -> None:
    start = datetime.now(UTC)
    _script(env, portrait_path)
    time.sleep(0.01)
    middle = datetime.now(UTC)
    time.sleep(0.01)
    env.services.cases.open(env.acting("ivy"), CaseSpec(
        "later", "b", "r", "p", middle - timedelta(days=1), middle, middle + timedelta(days=5),
        cameras=["gate"],
    ))  # fmt: skip
    period = Period(start - timedelta(days=30), middle)
    auditor = env.add_user("aud", Role.AUDITOR)
    report = env.services.transparency.report(auditor, period)

    for section, counted in COUNTED.items():
        for name, action in counted.items():
            assert report[section][name] == len(_logged(env, period, action)), (section, name)
    assert report["cases"] == {"opened": 3, "approved": 2, "rejected": 1, "sealed": 0, "closed": 0}
    assert report["searches"]["run"] == 2
    assert report["watchlist"] == {"proposed": 2, "approved": 1, "ended": 0}
    reviews = [d["to"] for a in ("alert.confirm", "alert.reject") for d in _logged(env, period, a)]
    assert report["alerts"]["confirmed_by_two"] == reviews.count("actionable") == 1
    assert report["alerts"]["rejected"] == reviews.count("rejected") == 1
    assert report["alerts"]["raised"] == 3
    share = report["alerts"]["false_match_share"]
    assert (share["reviewed"], share["rejected_share"]) == (2, 0.5)
    assert share["interval_95"] == pytest.approx(list(wilson(1, 2) or ()))
    assert report["public_cameras"] == {
        "proposed": 1, "approved": 1, "withdrawn": 1, "public_at_end": 0,
    }  # fmt: skip
    assert report["subject_requests"] == {
        "received": 3, "answered": 2, "rejected": 1, "restricted": 1, "erasures": 1,
    }  # fmt: skip
    head = report["anchor"]["tree_head"]
    with env.services.db.read() as session:
        (mine,) = env.services.audit.entries(session, EntryFilter(action="transparency.report"))
    assert head["size"] > mine.seq  # the head covers the report's own audit entry
    verify_report(report, env.services.audit.key.public_key)
    page = render_html(report, TimeText.named("Europe/Berlin"))
    assert 'Cases opened</th><td class="n">3' in page
    start = datetime.fromisoformat(report["period"]["from"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert f"From {start:%Y-%m-%d %H:%M:%S} {start.tzname()} to" in page  # the city's time
    assert 'Answered with a legal restriction</th><td class="n">1' in page


def test_a_changed_number_or_a_bad_request_is_caught(env: Env, portrait_path: Path) -> None:
    _script(env, portrait_path)
    auditor = env.add_user("aud", Role.AUDITOR)
    now = datetime.now(UTC)
    report = env.services.transparency.report(auditor, Period(now - timedelta(days=1), now))
    forged = json.loads(json.dumps(report))
    forged["searches"]["run"] = 0
    with pytest.raises(ProofError):
        verify_report(forged, env.services.audit.key.public_key)
    with pytest.raises(Forbidden):
        env.services.transparency.report(env.acting("ivy"), Period(now - timedelta(days=1), now))
    with pytest.raises(InvalidInput):
        Period(now, now - timedelta(days=1))


def test_the_command_writes_html_pdf_and_json_that_verifies_offline(
    env: Env, tmp_path: Path
) -> None:
    env.add_user("aud", Role.AUDITOR)
    (tmp_path / "pw").write_text(PASSWORD)
    login = ("--user", "aud", "--password-file", str(tmp_path / "pw"))
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ahead = vigil(env.data_dir, *login, "transparency", "report", "--from", "2026-01-01T00:00Z",
                  "--to", later, "--out", str(tmp_path / "x.json"))  # fmt: skip
    assert ahead.code == 2  # a report covers a period that has ended
    assert "end is in the future" in ahead.stderr
    span = ("--from", "2026-01-01T00:00:00Z", "--to", datetime.now(UTC).isoformat())
    for fmt in ("json", "html", "pdf"):
        made = vigil(env.data_dir, *login, "transparency", "report", *span, "--format", fmt,
                     "--out", str(tmp_path / f"r.{fmt}"))  # fmt: skip
        assert made.code == 0, made.stderr
    assert "How the city's cameras were used" in (tmp_path / "r.html").read_text()
    pdf = (tmp_path / "r.pdf").read_bytes()
    text = " ".join(pdf_pages(pdf))  # the PDF is the page, laid out for print
    assert pdf_title(pdf) == f"Transparency report 2026-01-01 to {span[3][:10]}"
    for said in ("How the city's cameras were used", "Cases opened", "Anchor and signature"):
        assert said in text, said
    assert "Download as PDF" not in text  # the page's own links are not printed
    key = ("--public-key", str(env.data_dir / PUBLIC_KEY_FILE))
    checked = vigil(
        tmp_path / "elsewhere", "transparency", "verify", str(tmp_path / "r.json"), *key
    )
    assert checked.code == 0, checked.stderr
    text = (tmp_path / "r.json").read_text()
    (tmp_path / "r.json").write_text(text.replace('"run": 0', '"run": 1'))
    assert (
        vigil(tmp_path / "x", "transparency", "verify", str(tmp_path / "r.json"), *key).code == 11
    )
