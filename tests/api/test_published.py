"""The transparency report, published (issue 32, item 3): an auditor publishes an ended month
once; anyone reads it, with the key that verifies it, without signing in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.api.conftest import Api
from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env
from vigil.audit.log import EntryFilter
from vigil.audit.published import month_span
from vigil.audit.transparency import verify_report
from vigil.auth.roles import Role
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.timetext import TimeText

NOW = datetime.now(UTC)
LAST_MONTH = f"{NOW.replace(day=1) - timedelta(days=1):%Y-%m}"
THIS_MONTH = f"{NOW:%Y-%m}"


def test_a_month_is_the_citys_month() -> None:
    berlin = month_span("2026-11", TimeText.named("Europe/Berlin"))
    assert (berlin[0].isoformat(), berlin[1].isoformat()) == (
        "2026-10-31T23:00:00+00:00",  # midnight in Berlin, summer time over
        "2026-11-30T23:00:00+00:00",
    )
    december = month_span("2026-12", TimeText())
    assert december[1] == datetime(2027, 1, 1, tzinfo=UTC)
    for bad in ("2026-13", "26-11", "1999-12", "2026-1"):
        with pytest.raises(InvalidInput, match="not a month"):
            month_span(bad, TimeText())


def test_an_auditor_publishes_an_ended_month_once(env: Env) -> None:
    published = env.services.transparency_reports
    aud = env.add_user("aud", Role.AUDITOR)
    with pytest.raises(InvalidInput, match="once it has ended"):
        published.publish(aud, THIS_MONTH)
    with pytest.raises(Forbidden):
        published.publish(env.add_user("ada", Role.ADMIN), LAST_MONTH)  # auditors publish
    made = published.publish(aud, LAST_MONTH)
    with pytest.raises(Conflict, match="published already"):
        published.publish(env.add_user("bob", Role.AUDITOR), LAST_MONTH)
    assert [p.month for p in published.published()] == [LAST_MONTH]
    report = published.of_month(LAST_MONTH).report
    assert report == made.report
    verify_report(report, env.services.audit.key.public_key)
    assert report["period"]["from"] == month_span(LAST_MONTH, TimeText())[0].isoformat()
    with pytest.raises(NotFound):
        published.of_month("2001-01")
    with env.services.db.read() as session:
        entries = env.services.audit.entries(session, EntryFilter(action="transparency.publish"))
    assert [(e.actor, e.outcome) for e in reversed(entries)] == [
        ("aud", "denied"), ("ada", "denied"), ("aud", "allowed"), ("bob", "denied"),
    ]  # fmt: skip


def test_anyone_reads_and_verifies_the_published_report(api: Api, tmp_path: Path) -> None:
    aud = api.token_for("aud", Role.AUDITOR)
    body = {"month": LAST_MONTH}
    made = api.client.post(
        "/api/v1/audit/transparency/publications", json=body, headers=api.bearer(aud)
    )
    assert made.status_code == 201, made.text
    assert made.json()["published_by"] == "aud"
    again = api.client.post(
        "/api/v1/audit/transparency/publications", json=body, headers=api.bearer(aud)
    )
    assert again.status_code == 409

    anyone = api.client  # no token, no session
    listed = anyone.get("/api/v1/public/transparency").json()
    assert [p["month"] for p in listed] == [LAST_MONTH]
    signed = anyone.get(listed[0]["report"])
    assert signed.status_code == 200
    key = anyone.get("/api/v1/public/transparency/key.pem")
    verify_report(signed.json(), load_pem_public_key(key.content))  # type: ignore[arg-type]
    assert anyone.get("/api/v1/public/transparency/2001-01").status_code == 404

    # The check a reader runs, offline, with the two files the page offers.
    (tmp_path / "report.json").write_text(json.dumps(signed.json()))
    (tmp_path / "key.pem").write_bytes(key.content)
    checked = vigil(
        tmp_path / "no-data-here", "transparency", "verify", str(tmp_path / "report.json"),
        "--public-key", str(tmp_path / "key.pem"),
    )  # fmt: skip
    assert checked.code == 0, checked.stderr
    changed = signed.json()
    changed["cases"]["opened"] += 1
    (tmp_path / "report.json").write_text(json.dumps(changed))
    refused = vigil(
        tmp_path / "no-data-here", "transparency", "verify", str(tmp_path / "report.json"),
        "--public-key", str(tmp_path / "key.pem"),
    )  # fmt: skip
    assert refused.code == 11

    page = anyone.get("/transparency")
    assert page.status_code == 200
    assert f'<h2 id="month-title">{LAST_MONTH}</h2>' in page.text
    assert page.text.count("<rect ") >= 6  # a bar per count
    assert "vigil transparency verify" in page.text
    assert anyone.get("/transparency?month=2001-01").status_code == 404
    assert PASSWORD not in page.text
