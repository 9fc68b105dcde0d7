"""Authentication on every endpoint, sessions with CSRF, and the audit trail of requests."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.conftest import PASSWORD
from vigil.api.app import create_api
from vigil.api.permissions import PARTNER
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role

PUBLIC = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/login"),
    # the public cameras' redacted, delayed video (tests/api/test_public.py)
    ("GET", "/api/v1/public/cameras"),
    ("GET", "/api/v1/public/cameras/{name}/live.mp4"),
    # the published transparency reports and their key (tests/api/test_published.py)
    ("GET", "/api/v1/public/transparency"),
    ("GET", "/api/v1/public/transparency/key.pem"),
    ("GET", "/api/v1/public/transparency/{month}"),
}
SAMPLE_PATH_VALUES = {
    "month": "2026-11",
    "name": "admin",
    "token_id": "1",
    "seq": "0",
    "group": "city",
    "user": "admin",
    "hold_id": "1",
    "entry_id": "1",
    "alert_id": "1",
    "case_id": "1",
    "sighting_id": "1",
    "which": "sighting",
    "publication_id": "1",
    "key_id": "1",
    "event_id": "1",
    "zone_id": "1",
    "request_id": "1",
}


def _operations(api: Api) -> list[tuple[str, str]]:
    spec = api.client.get("/api/v1/openapi.json", headers=api.bearer()).json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def _denied(api: Api, action: str) -> list[str]:
    with api.env.services.db.read() as session:
        flt = EntryFilter(action=action, outcome=Outcome.DENIED, limit=1000)
        return [e.target for e in api.env.services.audit.entries(session, flt)]


def test_every_endpoint_but_login_health_and_public_video_needs_authentication(api: Api) -> None:
    operations = _operations(api)
    assert len(operations) >= 15
    assert set(operations) >= PUBLIC
    for method, template in operations:
        path = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], template)
        response = api.client.request(method, path, params={"seq": 0, "old": 0, "new": 0})
        if (method, template) in PUBLIC:
            assert response.status_code != 401, (method, path)
            continue
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_authenticated"
        assert response.headers["www-authenticate"] == "Bearer"
    protected = len(operations) - len(PUBLIC)
    assert len(_denied(api, "api.request")) == protected
    for method, template in PARTNER:  # an organisation's key, never a person's token
        path = template.replace("{name}", "gate")
        answer = api.client.request(method, path, headers=api.bearer())
        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"]["message"] == "unknown organisation key"
    for described in ("/api/v1/openapi.json", "/api/v1/docs"):  # the API's description too
        assert api.client.get(described).status_code == 401
        assert api.client.get(described, headers=api.bearer()).status_code == 200


def test_every_answer_carries_the_security_headers(api: Api) -> None:
    for path, headers in (
        ("/api/v1/health", {}),
        ("/api/v1/users", api.bearer()),
        ("/login", {}),
        ("/api/v1/nope", {}),
    ):
        answer = api.client.get(path, headers=headers)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "default-src 'self'" in policy
        assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic YWRtaW46eA==", "Bearer vigil_not-a-real-token", "token"]
)
def test_bad_credentials_are_401_and_audited(api: Api, header: str) -> None:
    response = api.client.get("/api/v1/users", headers={"Authorization": header})
    assert response.status_code == 401
    assert _denied(api, "api.request") == ["GET /api/v1/users"]


def test_roles_are_enforced_and_refusals_audited(api: Api) -> None:
    operator = api.token_for("olga", Role.OPERATOR)
    auditor = api.token_for("audrey", Role.AUDITOR)
    assert api.client.get("/api/v1/audit/entries", headers=api.bearer(operator)).status_code == 403
    assert api.client.get("/api/v1/users", headers=api.bearer(operator)).status_code == 403
    assert _denied(api, "audit.list") == ["audit"]
    page = api.client.get("/api/v1/audit/entries?limit=5", headers=api.bearer(auditor)).json()
    assert len(page["entries"]) == 5
    assert page["next_before"] == page["entries"][-1]["seq"]
    again = api.client.get("/api/v1/audit/entries?limit=1", headers=api.bearer(auditor)).json()
    newest = again["entries"][0]
    assert (newest["actor"], newest["action"]) == ("audrey", "audit.list")  # reads are recorded
    assert newest["details"]["filter"] == {"limit": 5}


def test_the_session_cookie_is_secure_over_tls(api: Api) -> None:
    api.token_for("web", Role.VIEWER)
    body = {"username": "web", "password": PASSWORD}
    plain = api.client.post("/api/v1/auth/login", json=body)
    assert "secure" not in plain.headers["set-cookie"].lower()
    with TestClient(create_api(api.env.services), base_url="https://vigil.example") as tls:
        over_tls = tls.post("/api/v1/auth/login", json=body)
    assert "; secure" in over_tls.headers["set-cookie"].lower()


def test_browser_sessions_need_the_csrf_token_on_unsafe_requests(api: Api) -> None:
    api.token_for("web", Role.ADMIN)
    login = api.client.post("/api/v1/auth/login", json={"username": "web", "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    csrf = login.json()["csrf_token"]
    assert api.client.get("/api/v1/auth/me").json()["name"] == "web"
    body = {"name": "newbie", "role": "viewer", "password": PASSWORD}
    refused = api.client.post("/api/v1/users", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    assert (
        api.client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "nope"}).status_code
        == 403
    )
    created = api.client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    assert api.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert api.client.get("/api/v1/auth/me").status_code == 401


def test_login_failures_are_throttled_with_retry_after(api: Api) -> None:
    api.token_for("victim", Role.VIEWER)
    bad = {"username": "victim", "password": "not the password"}
    for _ in range(3):
        assert api.client.post("/api/v1/auth/login", json=bad).status_code == 401
    good = {"username": "victim", "password": PASSWORD}
    throttled = api.client.post("/api/v1/auth/login", json=good)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"]["code"] == "too_many_attempts"


def test_request_ids_are_echoed_and_recorded(api: Api) -> None:
    response = api.client.get(
        "/api/v1/users", headers={**api.bearer(), "X-Request-ID": "ticket-42"}
    )
    assert response.headers["x-request-id"] == "ticket-42"
    with api.env.services.db.read() as session:
        entry = api.env.services.audit.entries(session, EntryFilter(action="user.list"))[0]
    assert entry.request_id == "ticket-42"
    forged = api.client.get("/api/v1/health", headers={"X-Request-ID": "bad\x7fid"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])


def test_audit_endpoints_give_verifiable_proofs(api: Api) -> None:
    auditor = api.bearer(api.token_for("audrey", Role.AUDITOR))
    head = api.client.get("/api/v1/audit/head", headers=auditor).json()
    proof = api.client.get(
        f"/api/v1/audit/proofs/inclusion?seq={head['size'] - 1}", headers=auditor
    )
    assert proof.status_code == 200
    assert proof.json()["head"]["size"] >= head["size"]
    verify = api.client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verify["ok"] is True
    assert verify["first_bad_entry"] is None
    missing = api.client.get("/api/v1/audit/proofs/consistency?old=1&new=999999", headers=auditor)
    assert missing.status_code == 404
