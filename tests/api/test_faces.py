"""Face endpoints: authorised roles only, images checked, audited by hash, never stored."""

from __future__ import annotations

import hashlib

from tests.api.conftest import Api
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.auth.roles import LOCAL, RequestContext, Role
from vigil.faces.images import ImageLimits
from vigil.faces.photos import Photos


def _entries(api: Api, action: str) -> list[dict[str, object]]:
    with api.env.services.db.read() as session:
        found = api.env.services.audit.entries(session, EntryFilter(action=action))
    return [e.to_dict() for e in found]


def test_detect_finds_the_face_and_audits_only_a_hash(api: Api, portrait: bytes) -> None:
    token = api.token_for("ivan", Role.INVESTIGATOR)
    response = api.client.post(
        "/api/v1/faces/detect",
        files={"image": ("hopper.jpg", portrait, "image/jpeg")},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    faces = response.json()["faces"]
    assert len(faces) == 1
    assert faces[0]["usable"] is True
    assert len(faces[0]["landmarks"]) == 5
    [entry] = _entries(api, "faces.detect")
    assert entry["actor"] == "ivan"
    details = entry["details"]
    assert isinstance(details, dict)
    assert details["image"] == {
        "sha256": hashlib.sha256(portrait).hexdigest(),
        "bytes": len(portrait),
    }
    assert details["faces"] == 1


def test_compare_decides_same_person(api: Api, portrait: bytes) -> None:
    token = api.token_for("ivan", Role.INVESTIGATOR)
    files = {"a": ("a.jpg", portrait, "image/jpeg"), "b": ("b.jpg", portrait, "image/jpeg")}
    response = api.client.post("/api/v1/faces/compare", files=files, headers=api.bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["same_person"] is True
    assert body["distance"] == 0.0
    assert len(_entries(api, "faces.compare")) == 1


def test_roles_without_face_rights_are_refused(api: Api, portrait: bytes) -> None:
    token = api.token_for("vera", Role.VIEWER)
    response = api.client.post(
        "/api/v1/faces/detect",
        files={"image": ("hopper.jpg", portrait, "image/jpeg")},
        headers=api.bearer(token),
    )
    assert response.status_code == 403
    [entry] = _entries(api, "faces.detect")
    assert entry["outcome"] == str(Outcome.DENIED)


def test_bad_uploads_get_a_clear_422(api: Api) -> None:
    token = api.token_for("ivan", Role.INVESTIGATOR)
    response = api.client.post(
        "/api/v1/faces/detect",
        files={"image": ("notes.jpg", b"meeting notes, not a photo", "image/jpeg")},
        headers=api.bearer(token),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "image_rejected"
    assert "notes.jpg is not a JPEG, PNG, WebP or PGM image" in error["message"]
    missing = api.client.post("/api/v1/faces/detect", headers=api.bearer(token))
    assert missing.status_code == 422


def test_too_many_photos_get_429_or_503_and_are_audited(api: Api, portrait: bytes) -> None:
    token = api.bearer(api.token_for("olga", Role.OPERATOR))
    photos = Photos(ImageLimits(), concurrent=1, wait_s=0.05, per_minute=2)
    api.env.services.faces.photos = photos
    files = {"image": ("hopper.jpg", portrait, "image/jpeg")}
    with photos.working(RequestContext(LOCAL, "someone else's turn")):
        busy = api.client.post("/api/v1/faces/detect", files=files, headers=token)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["error"]["code"] == "busy"
    assert api.client.post("/api/v1/faces/detect", files=files, headers=token).status_code == 200
    limited = api.client.post("/api/v1/faces/detect", files=files, headers=token)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    audited = [(e["outcome"], e["details"]) for e in reversed(_entries(api, "faces.detect"))]
    assert [(outcome, details.get("reason")) for outcome, details in audited] == [  # type: ignore[union-attr]
        ("denied", "busy"),
        ("allowed", None),
        ("denied", "too_many_attempts"),
    ]
