"""schemathesis fuzzes every operation with a valid admin token: no 5xx, no schema violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import make_env
from vigil.api.app import create_api

_STATE: dict[str, str] = {}
RESPONSE_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    data_dir: Path = tmp_path_factory.mktemp("schema") / "data"
    env = make_env(data_dir, f"sqlite:///{data_dir.parent / 'vigil.db'}")
    _, _STATE["token"] = env.services.tokens.create(env.local(), "admin", label="fuzz")
    yield schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json",
        create_api(env.services),
        headers={"Authorization": f"Bearer {_STATE['token']}"},
    )
    env.services.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    # A password that fits the schema's length may still be refused as too easy to guess
    # (zxcvbn's estimate, which no JSON schema can state): a 422 there is not a defect.
    judged = [positive_data_acceptance] if case.operation.label == "POST /api/v1/users" else []
    # The response's time is not what this test judges: on a loaded machine one answer
    # (POST /api/v1/tokens, in a CI run; its cause not found) took over schemathesis's
    # default 10 s.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {_STATE['token']}"},
        excluded_checks=judged,
        timeout=RESPONSE_TIMEOUT_S,
    )
