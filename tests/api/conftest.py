"""An API client over real services on a real database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, Env
from vigil.api.app import create_api
from vigil.auth.roles import Role


@dataclass
class Api:
    env: Env
    client: TestClient
    admin_token: str

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def token_for(self, name: str, role: Role) -> str:
        self.env.services.users.create(self.env.local(), name, str(role), PASSWORD)
        return self.env.own_token(name)


@pytest.fixture
def api(env: Env) -> Iterator[Api]:
    _, token = env.services.tokens.create(env.local(), "admin", label="tests")
    with TestClient(create_api(env.services)) as client:
        yield Api(env=env, client=client, admin_token=token)
