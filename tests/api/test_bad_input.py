"""Malformed, oversized and hostile requests: a clear 4xx, audited, and no state change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.conftest import Api
from tests.conftest import PASSWORD
from vigil.api.app import create_api
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.store.models import ApiToken, User


def _state(api: Api) -> tuple[int, int]:
    with api.env.services.db.read() as session:
        users = session.scalar(select(func.count()).select_from(User))
        tokens = session.scalar(select(func.count()).select_from(ApiToken))
    return int(users or 0), int(tokens or 0)


def _denials(api: Api) -> int:
    with api.env.services.db.read() as session:
        flt = EntryFilter(outcome=Outcome.DENIED, limit=1000)
        return len(api.env.services.audit.entries(session, flt))


GOOD_USER = {"name": "valid", "role": "viewer", "password": PASSWORD}

BAD_BODIES: list[tuple[str, str, Any, str]] = [
    ("/api/v1/users", "malformed JSON", b'{"name": "x", ', "JSON"),
    ("/api/v1/users", "unknown field", {**GOOD_USER, "is_admin": True}, "is_admin"),
    ("/api/v1/users", "wrong type", {**GOOD_USER, "role": 7}, "role"),
    ("/api/v1/users", "unknown role", {**GOOD_USER, "role": "root"}, "role"),
    ("/api/v1/users", "path separator", {**GOOD_USER, "name": "../etc"}, "name"),
    ("/api/v1/users", "control char", {**GOOD_USER, "name": "a\nb"}, "name"),
    ("/api/v1/users", "short password", {**GOOD_USER, "password": "pw"}, "password"),
    ("/api/v1/users", "not an object", [1, 2], "body"),
    ("/api/v1/tokens", "expiry too long", {"expires_days": 99999}, "expires_days"),
    ("/api/v1/tokens", "label control", {"label": "a\x1b[2J"}, "label"),
]


@pytest.mark.parametrize(
    ("path", "case", "body", "mentions"), BAD_BODIES, ids=[c[1] for c in BAD_BODIES]
)
def test_bad_bodies_get_422_naming_the_field(
    api: Api, path: str, case: str, body: Any, mentions: str
) -> None:
    before, denials = _state(api), _denials(api)
    if isinstance(body, bytes):
        response = api.client.post(
            path, content=body, headers={**api.bearer(), "Content-Type": "application/json"}
        )
    else:
        response = api.client.post(path, json=body, headers=api.bearer())
    assert response.status_code == 422, (case, response.text)
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert mentions.lower() in error["message"].lower(), error["message"]
    assert PASSWORD not in response.text
    assert _state(api) == before
    assert _denials(api) == denials + 1


@pytest.mark.parametrize(
    "path", ["/api/v1/users/a%0Ab", "/api/v1/users/..%2Fadmin", "/api/v1/users/A"]
)
def test_hostile_path_names_are_refused(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.bearer())
    assert response.status_code in (404, 422)
    assert "error" in response.json()


def test_oversized_bodies_are_refused_before_parsing(api: Api) -> None:
    before = _state(api)
    limit = api.env.services.config.api.max_body_bytes
    big = {**GOOD_USER, "password": "x" * (limit + 1)}
    response = api.client.post("/api/v1/users", json=big, headers=api.bearer())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(limit // 1000 + 2):
            yield b"x" * 1000

    streamed = api.client.post(
        "/api/v1/users",
        content=chunks(),
        headers={**api.bearer(), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert _state(api) == before


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=100000", "limit=abc", "outcome=maybe", "before=-1", "since=yesterday"],
)
def test_bad_query_parameters_get_422(api: Api, query: str) -> None:
    response = api.client.get(f"/api/v1/audit/entries?{query}", headers=api.bearer())
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_unknown_routes_and_methods_answer_in_the_same_shape(api: Api) -> None:
    assert (
        api.client.get("/api/v1/nope", headers=api.bearer()).json()["error"]["code"] == "not_found"
    )
    wrong = api.client.put("/api/v1/health")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_unauthenticated_garbage_gets_401_not_422(api: Api) -> None:
    response = api.client.post(
        "/api/v1/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


def test_huge_ids_and_malformed_urls_get_422_and_are_audited(api: Api) -> None:
    bad = [
        ("POST", "/api/v1/cases/1/confirmations", {"sighting_ids": [9223372036854775808]}),
        ("POST", "/api/v1/cameras", {"name": "v6", "url": "rtsp://u:p@[::1/x"}),
        ("POST", "/api/v1/cameras", {"name": "far", "url": "rtsp://cam:99999/x"}),
        ("POST", "/api/v1/cameras", {"name": "pw", "url": "file:///etc/passwd"}),
    ]
    for method, path, body in bad:
        answer = api.client.request(method, path, json=body, headers=api.bearer())
        assert answer.status_code == 422, (path, body, answer.text)
        assert answer.json()["error"]["code"] == "invalid_input"
    with api.env.services.db.read() as session:
        denied = api.env.services.audit.entries(session, EntryFilter(outcome=Outcome.DENIED))
    assert len(denied) == len(bad)


def test_an_unexpected_error_is_json_naming_the_request_and_audited(api: Api) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("a bug")

    api.env.services.users.list = broken  # type: ignore[method-assign,assignment]
    with TestClient(create_api(api.env.services), raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/users", headers=api.bearer())
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["code"] == "internal_error"
    assert answer.json()["request_id"] in error["message"]
    assert "a bug" not in answer.text  # the trace is in the log, not the answer
    with api.env.services.db.read() as session:
        (entry,) = api.env.services.audit.entries(session, EntryFilter(action="api.request"))
    assert (entry.outcome, entry.target) == (Outcome.DENIED, "GET /api/v1/users")
