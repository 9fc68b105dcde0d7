"""Cases and search over the API: the same rules as the services, as HTTP answers."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import Api
from tests.investigations.world import (
    NOON,
    approved_case,
    blurred,
    her_sightings,
    mirrored,
    spec,
    world,
)
from vigil.auth.roles import Role


def _case_body(cameras: list[str]) -> dict[str, object]:
    case = spec(cameras)
    return {
        "subject": case.subject,
        "legal_basis": case.legal_basis,
        "reference": case.reference,
        "purpose": case.purpose,
        "cameras": cameras,
        "from": case.start.isoformat(),
        "to": case.end.isoformat(),
        "expires_at": case.expires.isoformat(),
    }


def test_a_case_from_opening_to_report(api: Api, portrait_path: Path) -> None:
    w = world(api.env)
    seen = her_sightings(w, portrait_path, "gate", NOON, n=2)
    tokens = {name: api.env.own_token(name) for name in ("ivy", "sue")}
    ivy, sue = api.bearer(tokens["ivy"]), api.bearer(tokens["sue"])
    client = api.client

    opened = client.post("/api/v1/cases", json=_case_body(["gate"]), headers=ivy)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert (case["status"], case["cameras"]) == ("requested", ["gate"])
    assert case["from"].startswith("2026-11-20T06:00")
    url = f"/api/v1/cases/{case['id']}"
    photo = {"photos": ("probe.jpg", mirrored(portrait_path), "image/jpeg")}
    assert client.post(f"{url}/searches", files=photo, headers=ivy).status_code == 403
    assert client.post(f"{url}/approve", headers=ivy).status_code == 403
    assert client.post(f"{url}/approve", headers=sue).json()["status"] == "approved"

    found = client.post(f"{url}/searches", files=photo, data={"limit": "5"}, headers=ivy)
    assert found.status_code == 200, found.text
    results = found.json()["results"]
    assert sorted(r["sighting_id"] for r in results) == seen
    assert {"sighting_id", "camera", "start", "end", "similarity"} <= set(results[0])

    first = results[0]["sighting_id"]
    image = client.get(f"{url}/results/{first}/crop.jpg", headers=ivy)
    assert image.headers["content-type"] == "image/jpeg"
    outsider = api.bearer(api.token_for("otto", Role.INVESTIGATOR))
    assert client.get(f"{url}/results/{first}/crop.jpg", headers=outsider).status_code == 404
    assert client.get(f"{url}/results", headers=outsider).status_code == 404

    assert client.get(f"{url}/report", headers=ivy).status_code == 409  # nothing confirmed
    confirmed = client.post(f"{url}/confirmations", json={"sighting_ids": seen}, headers=ivy)
    assert [r["confirmed_by"] for r in confirmed.json()] == ["ivy", "ivy"]
    pdf = client.get(f"{url}/report", params={"format": "pdf"}, headers=ivy)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    assert client.get(f"{url}/report", params={"format": "doc"}, headers=ivy).status_code == 422

    assert client.get("/api/v1/notices", headers=sue).status_code == 200
    assert client.get("/api/v1/notices", headers=ivy).status_code == 403


def test_bad_case_requests_are_refused(api: Api) -> None:
    world(api.env)
    ivy = api.bearer(api.env.own_token("ivy"))
    body = _case_body(["gate"])
    for change in ({"from": "2026-11-20T10:00"}, {"cameras": []}, {"subject": ""}, {"x": 1}):
        answer = api.client.post("/api/v1/cases", json=body | change, headers=ivy)
        assert answer.status_code == 422, change
    assert api.client.get("/api/v1/cases", headers=ivy).json() == []
    assert api.client.post("/api/v1/cases/1/searches", headers=ivy).status_code == 422


def test_no_route_lists_sightings_without_a_probe_and_a_second_persons_approval(
    api: Api,
) -> None:
    """Sightings are reached only through a case (searched by photo once approved) or a
    subject request (taken with the requester's photos, approved by another person)."""
    paths = api.client.get("/api/v1/openapi.json", headers=api.bearer()).json()["paths"]
    about_sightings = [p for p in paths if "sighting" in p or "found" in p]
    assert about_sightings == [
        "/api/v1/cases/{case_id}/results/{sighting_id}/crop.jpg",
        "/api/v1/subject-requests/{request_id}/found",
        "/api/v1/subject-requests/{request_id}/found/{sighting_id}/crop.jpg",
    ]
    assert set(paths["/api/v1/cases/{case_id}/searches"]) == {"post"}
    assert set(paths["/api/v1/subject-requests"]) == {"get", "post"}  # records, or photos


def test_a_weak_photo_is_refused_with_its_measures_unless_low_quality(
    api: Api, portrait_path: Path
) -> None:
    w = world(api.env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    ivy = api.bearer(api.env.own_token("ivy"))
    photo = {"photos": ("blurred.jpg", blurred(portrait_path), "image/jpeg")}
    url = f"/api/v1/cases/{case}/searches"
    refused = api.client.post(url, files=photo, headers=ivy)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert any(f.startswith("sharpness") for f in error["failed"])
    assert api.client.get(f"/api/v1/cases/{case}/results", headers=ivy).json() == []
    weak = api.client.post(url, files=photo, data={"low_quality": "true"}, headers=ivy)
    assert weak.status_code == 200, weak.text
    assert weak.json()["weak_probe"] is True
    assert all(r["weak_probe"] for r in weak.json()["results"])
    assert all(r["estimated_fmr"] > 0 for r in weak.json()["results"])
