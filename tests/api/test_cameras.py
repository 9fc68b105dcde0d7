"""Camera registry over the API: admins manage it, others see their groups' cameras only."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.cameras.test_registry import SECRET_URL
from vigil.auth.roles import Role


def test_the_api_hides_credentials(api: Api) -> None:
    body = {
        "name": "lobby",
        "url": SECRET_URL,
        "latitude": 48.1,
        "longitude": 11.5,
        "group": "hall",
    }
    created = api.client.post("/api/v1/cameras", json=body, headers=api.bearer())
    assert created.status_code == 201, created.text
    listed = api.client.get("/api/v1/cameras", headers=api.bearer())
    assert "Sup3r" not in created.text + listed.text
    assert listed.json()[0]["username"] == "operator"
    viewer = api.bearer(api.token_for("vic", Role.VIEWER))
    assert api.client.get("/api/v1/cameras", headers=viewer).json() == []
    assert api.client.get("/api/v1/cameras/lobby", headers=viewer).status_code == 404
    member = api.client.put("/api/v1/camera-groups/hall/members/vic", headers=api.bearer())
    assert member.status_code == 204
    (seen,) = api.client.get("/api/v1/cameras", headers=viewer).json()
    assert seen["name"] == "lobby"
    assert "Sup3r" not in str(seen)
    assert api.client.post("/api/v1/cameras", json=body, headers=viewer).status_code == 403
    assert api.client.delete("/api/v1/cameras/lobby", headers=api.bearer()).status_code == 204
    assert api.client.get("/api/v1/cameras/lobby", headers=api.bearer()).status_code == 404
