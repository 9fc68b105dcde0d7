"""Watchlists and alerts over the API, and new alerts as server-sent events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.api.conftest import Api
from tests.recorded import add_camera
from tests.sightings import matching_alert
from vigil.auth.roles import Role


def _propose(api: Api, token: str, portrait: Path) -> dict[str, object]:
    response = api.client.post(
        "/api/v1/watchlist",
        data={
            "label": "suspect C",
            "legal_basis": "court order",
            "reference": "AZ 99",
            "expires_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        },
        files=[("photos", ("c.jpg", portrait.read_bytes(), "image/jpeg"))],
        headers=api.bearer(token),
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_watchlist_and_two_person_review(api: Api, portrait_path: Path) -> None:
    ivy = api.token_for("ivy", Role.INVESTIGATOR)
    sue = api.token_for("sue", Role.SUPERVISOR)
    olga = api.token_for("olga", Role.OPERATOR)
    otto = api.token_for("otto", Role.OPERATOR)
    refused = api.client.post("/api/v1/watchlist", data={"label": "x"}, headers=api.bearer(olga))
    assert refused.status_code in (403, 422)
    entry = _propose(api, ivy, portrait_path)
    assert entry["status"] == "awaiting approval"
    own = api.client.post(f"/api/v1/watchlist/{entry['id']}/approve", headers=api.bearer(ivy))
    assert own.status_code == 403
    approved = api.client.post(f"/api/v1/watchlist/{entry['id']}/approve", headers=api.bearer(sue))
    assert approved.json()["status"] == "active"

    alert = matching_alert(api.env, add_camera(api.env, "gate", group="ga"))
    add_camera(api.env, "yard", group="gb")
    oscar = api.bearer(api.token_for("oscar", Role.OPERATOR))
    for group, user in (("ga", "olga"), ("ga", "otto"), ("gb", "oscar")):
        api.env.services.groups.grant(api.env.local(), group, user)
    assert api.client.get("/api/v1/alerts", headers=oscar).json() == {
        "alerts": [],
        "rejected_total": 0,
    }
    for attempt in (
        api.client.get(f"/api/v1/alerts/{alert}/reference.jpg", headers=oscar),
        api.client.get(f"/api/v1/alerts/{alert}/sighting.jpg", headers=oscar),
        api.client.post(f"/api/v1/alerts/{alert}/confirm", headers=oscar),
        api.client.post(f"/api/v1/alerts/{alert}/reject", headers=oscar),
    ):
        assert attempt.status_code == 404  # outside his camera groups: as if there were none
        assert attempt.json()["error"]["message"] == f"no alert {alert}"
    listed = api.client.get("/api/v1/alerts", params={"state": "pending"}, headers=api.bearer(olga))
    assert [a["id"] for a in listed.json()["alerts"]] == [alert]
    assert listed.json()["alerts"][0]["similarity"] == 1.0
    reference = api.client.get(f"/api/v1/alerts/{alert}/reference.jpg", headers=api.bearer(olga))
    assert reference.headers["content-type"] == "image/jpeg"
    assert reference.content.startswith(b"\xff\xd8")
    seen = api.client.get(f"/api/v1/alerts/{alert}/sighting.jpg", headers=api.bearer(olga))
    assert seen.status_code == 404  # this test's sighting has no crop: as after expiry
    assert "expired" in seen.json()["error"]["message"]
    hidden = api.client.get(f"/api/v1/alerts/{alert}/reference.jpg", headers=api.bearer(ivy))
    assert hidden.status_code == 403
    first = api.client.post(f"/api/v1/alerts/{alert}/confirm", headers=api.bearer(olga))
    assert first.json()["state"] == "confirmed"
    again = api.client.post(f"/api/v1/alerts/{alert}/confirm", headers=api.bearer(olga))
    assert again.status_code == 409
    second = api.client.post(f"/api/v1/alerts/{alert}/confirm", headers=api.bearer(otto))
    assert (second.json()["state"], second.json()["second_by"]) == ("actionable", "otto")
    late = api.client.post(f"/api/v1/alerts/{alert}/reject", headers=api.bearer(otto))
    assert late.status_code == 409
    bad = api.client.get("/api/v1/alerts", params={"state": "lost"}, headers=api.bearer(olga))
    assert bad.status_code == 422


def test_new_alerts_arrive_as_server_sent_events(api: Api, portrait_path: Path) -> None:
    entry = _propose(api, api.token_for("ivy", Role.INVESTIGATOR), portrait_path)
    sue = api.token_for("sue", Role.SUPERVISOR)
    api.client.post(f"/api/v1/watchlist/{entry['id']}/approve", headers=api.bearer(sue))
    camera = add_camera(api.env, "gate", group="ga")
    elsewhere = add_camera(api.env, "yard", group="gb")
    olga = api.bearer(api.token_for("olga", Role.OPERATOR))
    api.env.services.groups.grant(api.env.local(), "ga", "olga")
    investigator = api.bearer(api.token_for("ian", Role.INVESTIGATOR))
    assert api.client.get("/api/v1/alerts/events", headers=investigator).status_code == 403
    with api.client.stream("GET", "/api/v1/alerts/events", headers=olga) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = (line for line in stream.iter_lines() if line)  # events end with a blank
        assert next(lines) == ": connected"
        matching_alert(api.env, elsewhere)  # not in her groups: never sent to her
        alert = matching_alert(api.env, camera)
        event = [next(lines) for _ in range(3)]
    assert event[:2] == [f"id: {alert}", "event: alert"]
    data = json.loads(event[2].removeprefix("data: "))
    assert (data["id"], data["label"], data["state"]) == (alert, "suspect C", "pending")
