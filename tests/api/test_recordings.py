"""Recordings over the API: only members of a camera's group watch it, and it is on record."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from tests.api.conftest import Api
from tests.recorded import add_camera, clip, record
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.audit.signing import SigningKey
from vigil.auth.roles import Role
from vigil.recording.manifest import verify_export


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _entries(api: Api, action: str) -> list[tuple[str, str, dict[str, object]]]:
    with api.env.services.db.read() as session:
        found = api.env.services.audit.entries(session, EntryFilter(action=action))
        return [(e.actor, e.outcome, e.details) for e in reversed(found)]  # oldest first


def test_segments_and_export_need_the_camera_group_and_are_audited(
    api: Api, tmp_path: Path
) -> None:
    camera = add_camera(api.env, "gate", group="north")
    start = time.time() - 120
    segments = record(api.env, camera, start, 6)
    span = {"start": _iso(start - 1), "end": _iso(start + 7)}
    olga = api.bearer(api.token_for("olga", Role.OPERATOR))

    # Outside her groups, the camera is not even shown: its recordings answer as its status.
    refused = api.client.get("/api/v1/cameras/gate/recordings", params=span, headers=olga)
    hidden = api.client.get("/api/v1/cameras/gate/status", headers=olga)
    assert refused.status_code == hidden.status_code == 404
    assert refused.json()["error"]["message"] == hidden.json()["error"]["message"]
    granted = api.client.put("/api/v1/camera-groups/north/members/olga", headers=api.bearer())
    assert granted.status_code == 204

    listed = api.client.get("/api/v1/cameras/gate/recordings", params=span, headers=olga)
    assert listed.status_code == 200, listed.text
    status = api.client.get("/api/v1/cameras/gate/status", headers=olga).json()
    assert status["coverage"]["segments"] == 3
    body = listed.json()
    assert [s["sha256"] for s in body["segments"]] == [s.sha256 for s in segments]
    assert body["gaps"] == []

    clip_response = api.client.get("/api/v1/cameras/gate/recording.mp4", params=span, headers=olga)
    assert clip_response.status_code == 200
    assert clip_response.headers["content-type"] == "video/mp4"
    out = tmp_path / "clip.mp4"
    out.write_bytes(clip_response.content)
    with av.open(str(out)) as container:
        frames = sum(1 for _ in container.decode(video=0))
        assert float(container.duration or 0) / 1e6 >= 5.5
    assert frames == 60  # six seconds at 10 fps, every frame of every segment
    assert list((api.env.data_dir / "tmp").iterdir()) == []  # the temporary clip is gone
    manifest = json.loads(base64.b64decode(clip_response.headers["x-vigil-manifest"]))
    verified = verify_export(out, manifest, SigningKey.load(api.env.data_dir).public_key)
    assert (verified["exported_by"], verified["segments"]) == ("olga", 3)

    assert [(a, o) for a, o, _ in _entries(api, "recording.list")] == [
        ("olga", Outcome.DENIED),
        ("olga", Outcome.ALLOWED),
    ]
    ((actor, outcome, details),) = _entries(api, "recording.export")
    assert (actor, outcome, details["start"], details["segments"]) == (
        "olga",
        Outcome.ALLOWED,
        span["start"],
        3,
    )


def test_bad_ranges_are_refused_clearly(api: Api) -> None:
    add_camera(api.env, "gate")
    cases = [
        ({"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T09:00:00Z"}, "end after"),
        ({"start": "2026-01-01T10:00:00", "end": "2026-01-01T11:00:00"}, "time zone"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T02:00:00Z"}, "at most"),
        ({"start": "yesterday", "end": "2026-01-01T02:00:00Z"}, "not an ISO 8601 time"),
    ]
    for params, words in cases:
        response = api.client.get(
            "/api/v1/cameras/gate/recording.mp4", params=params, headers=api.bearer()
        )
        assert response.status_code == 422, (params, response.text)
        assert words in response.text, (params, response.text)


def test_live_view_when_the_camera_is_not_streaming_is_503(api: Api) -> None:
    add_camera(api.env, "gate")
    api.client.put("/api/v1/camera-groups/city/members/admin", headers=api.bearer())
    response = api.client.get("/api/v1/cameras/gate/live.mp4", headers=api.bearer())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"


def test_live_view_serves_the_init_segment_then_the_newest_fragment(api: Api) -> None:
    camera = add_camera(api.env, "gate")
    init, fragments = clip()
    hub = api.env.services.live
    api.client.put("/api/v1/camera-groups/city/members/admin", headers=api.bearer())
    hub.begin(camera, init)
    for i, fragment in enumerate(fragments):
        hub.publish(camera, fragment, 1000.0 + i)
    hub.end(camera)  # the camera dropped: nothing to watch
    assert api.client.get("/api/v1/cameras/gate/live.mp4", headers=api.bearer()).status_code == 503
    hub.begin(camera, init)
    for i, fragment in enumerate(fragments):
        hub.publish(camera, fragment, 1000.0 + i)
    olga = api.bearer(api.token_for("olga", Role.OPERATOR))
    # Outside her groups the camera is not found (a 403 would tell her it exists).
    assert api.client.get("/api/v1/cameras/gate/live.mp4", headers=olga).status_code == 404
    with api.client.stream("GET", "/api/v1/cameras/gate/live.mp4", headers=api.bearer()) as r:
        assert r.status_code == 200
        assert r.headers["x-vigil-live-start"] == "1003.000"
        head = next(r.iter_bytes())
        hub.end(camera)
    assert head[: len(init)] == init
    assert hashlib.sha256(head[len(init) :]).digest() == hashlib.sha256(fragments[-1]).digest()
    assert [(a, o) for a, o, _ in _entries(api, "camera.live")][-2:] == [
        ("olga", Outcome.DENIED),
        ("admin", Outcome.ALLOWED),
    ]


def test_a_live_view_is_on_record_with_the_time_it_was_watched(api: Api) -> None:
    camera = add_camera(api.env, "gate")
    init, fragments = clip()
    hub = api.env.services.live
    api.client.put("/api/v1/camera-groups/city/members/admin", headers=api.bearer())
    hub.begin(camera, init)
    hub.publish(camera, fragments[0], 1000.0)
    with api.client.stream("GET", "/api/v1/cameras/gate/live.mp4", headers=api.bearer()) as r:
        chunks = r.iter_bytes()
        head = next(chunks)
        time.sleep(1.5)
        hub.publish(camera, fragments[1], 1001.0)
        second = next(chunks)
    # The viewer left (the connection closed): the record follows within moments.
    deadline = time.monotonic() + 10
    while not _entries(api, "camera.live.end") and time.monotonic() < deadline:
        time.sleep(0.1)
    ((actor, outcome, opened),) = [e for e in _entries(api, "camera.live") if e[0] == "admin"]
    ((_, _, closed),) = _entries(api, "camera.live.end")
    assert (actor, outcome) == ("admin", Outcome.ALLOWED)
    assert closed["start"] == opened["start"]
    seconds = (
        datetime.fromisoformat(str(closed["end"])) - datetime.fromisoformat(str(closed["start"]))
    ).total_seconds()
    assert 1.5 <= float(str(closed["seconds"])) == pytest.approx(seconds, abs=0.002)
    assert closed["bytes"] == len(head) + len(second)


def test_evidence_holds_need_the_hold_permission(api: Api) -> None:
    add_camera(api.env, "gate")
    body = {"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00Z", "reason": "case 12"}
    viewer = api.bearer(api.token_for("vic", Role.VIEWER))
    assert (
        api.client.post("/api/v1/cameras/gate/holds", json=body, headers=viewer).status_code == 403
    )
    investigator = api.bearer(api.token_for("ivy", Role.INVESTIGATOR))
    api.env.services.groups.grant(api.env.local(), "city", "ivy")
    made = api.client.post("/api/v1/cameras/gate/holds", json=body, headers=investigator)
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == "ivy"
    (listed,) = api.client.get("/api/v1/holds", headers=investigator).json()
    assert listed["reason"] == "case 12"
    released = api.client.delete(f"/api/v1/holds/{listed['id']}", headers=investigator)
    assert released.json()["released_at"] is not None
    assert api.client.get("/api/v1/holds", headers=investigator).json() == []
    again = api.client.delete(f"/api/v1/holds/{listed['id']}", headers=investigator)
    assert again.status_code == 404
