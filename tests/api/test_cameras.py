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
    assert seen["username"] is None  # the camera's login is for those who manage cameras
    assert api.client.post("/api/v1/cameras", json=body, headers=viewer).status_code == 403
    assert api.client.delete("/api/v1/cameras/lobby", headers=api.bearer()).status_code == 204
    assert api.client.get("/api/v1/cameras/lobby", headers=api.bearer()).status_code == 404


def test_patch_sets_and_resets_the_analysis_rate(api: Api) -> None:
    body = {"name": "dock", "url": "rtsp://h/dock", "analysis_fps": 2.5}
    created = api.client.post("/api/v1/cameras", json=body, headers=api.bearer())
    assert created.json()["analysis_fps"] == 2.5
    url = "/api/v1/cameras/dock"
    changed = api.client.patch(url, json={"analysis_fps": 1}, headers=api.bearer())
    assert changed.json()["analysis_fps"] == 1.0
    for bad in ({}, {"analysis_fps": 0}, {"analysis_fps": 100}, {"enabled": None}):
        assert api.client.patch(url, json=bad, headers=api.bearer()).status_code == 422, bad
    reset = api.client.patch(
        url, json={"analysis_fps": None, "enabled": False}, headers=api.bearer()
    )
    assert (reset.json()["analysis_fps"], reset.json()["enabled"]) == (None, False)


def test_patch_sets_switches_and_clears_the_analysis_stream(api: Api) -> None:
    body = {"name": "pier", "url": "rtsp://viewer:Pw-1@10.0.0.9/main"}
    assert api.client.post("/api/v1/cameras", json=body, headers=api.bearer()).status_code == 201
    url = "/api/v1/cameras/pier"
    sub = "rtsp://10.0.0.9/sub"
    changed = api.client.patch(url, json={"analysis_url": sub}, headers=api.bearer())
    assert changed.json()["analysis_url"] == sub
    for bad in ({"analysis_url": "rtsp://10.0.0.9/main"}, {"analysis_url": "rtsp://x:y@h/s"}):
        refused = api.client.patch(url, json=bad, headers=api.bearer())
        assert refused.status_code == 422, bad
    assert api.client.get(url, headers=api.bearer()).json()["analysis_url"] == sub
    viewer = api.bearer(api.token_for("val", Role.VIEWER))
    assert api.client.patch(url, json={"analysis_url": None}, headers=viewer).status_code == 403
    cleared = api.client.patch(url, json={"analysis_url": None}, headers=api.bearer())
    assert cleared.json()["analysis_url"] is None
