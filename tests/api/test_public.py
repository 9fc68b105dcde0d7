"""The public path: no login, no route to anything unredacted, redacted and delayed video
of public cameras only, limits per client, and a withdrawn camera's streams end."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from tests.api.conftest import Api
from tests.conftest import Env
from tests.publishing.footage import HAMILTON, record_clip
from tests.recorded import add_camera
from vigil.api.permissions import PUBLIC
from vigil.audit.transparency import Period
from vigil.auth.roles import Role
from vigil.faces.yunet import YuNetDetector
from vigil.store.models import PublicViewing

OPEN_ROUTES = {
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/public/cameras"),
    ("GET", "/api/v1/public/cameras/{name}/live.mp4"),
    ("GET", "/api/v1/public/transparency"),
    ("GET", "/api/v1/public/transparency/key.pem"),
    ("GET", "/api/v1/public/transparency/{month}"),
}


def _publish(env: Env, camera: str) -> int:
    env.add_user("ada", Role.ADMIN)
    env.add_user("sam", Role.SUPERVISOR, groups=("city",))
    proposal = env.services.publications.propose(env.acting("ada"), camera, "the square")
    env.services.publications.approve(env.acting("sam"), proposal.id)
    return proposal.id


def test_the_public_router_reaches_only_public_cameras_and_their_video(api: Api) -> None:
    """The open routes are these (tests/api/test_access.py calls every other one without
    credentials and gets 401); the public ones tell a camera's name and place, no more."""
    document = api.client.get("/api/v1/openapi.json", headers=api.bearer()).json()
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert operations >= OPEN_ROUTES
    assert {op for op in PUBLIC if op[1].startswith("/api/")} == OPEN_ROUTES
    public = [p for p in document["paths"] if p.startswith("/api/v1/public/")]
    assert sorted(public) == [
        "/api/v1/public/cameras",
        "/api/v1/public/cameras/{name}/live.mp4",
        "/api/v1/public/transparency",  # published reports: counts only, signed
        "/api/v1/public/transparency/key.pem",
        "/api/v1/public/transparency/{month}",
    ]
    listing = document["components"]["schemas"]["PublicCameraOut"]["properties"]
    assert set(listing) == {"name", "latitude", "longitude", "live"}  # no URL, no group


def test_a_camera_that_is_not_public_is_not_there(api: Api) -> None:
    add_camera(api.env, "square")
    assert api.client.get("/api/v1/public/cameras").json() == []
    assert api.client.get("/api/v1/public/cameras/square/live.mp4").status_code == 404
    page = api.client.get("/public")
    assert page.status_code == 200
    assert "No camera is public" in page.text


def test_the_public_stream_is_redacted_delayed_and_ends_when_withdrawn(
    api: Api, datasets: Path, tmp_path: Path
) -> None:
    camera = add_camera(api.env, "square")
    publication = _publish(api.env, "square")
    # The clip, as if recorded over the last 20 s: its first seconds are due at once.
    assert record_clip(api.env, camera, datasets / HAMILTON, time.time() - 20)
    assert [c["name"] for c in api.client.get("/api/v1/public/cameras").json()] == ["square"]
    delay = api.env.services.config.publishing.delay_s
    received = bytearray()
    ended: list[float] = []
    with api.client.stream("GET", "/api/v1/public/cameras/square/live.mp4") as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "video/mp4"
        opened = time.time()
        withdrawn = threading.Timer(
            3.0,
            lambda: api.env.services.publications.withdraw(api.env.acting("ada"), publication),
        )
        withdrawn.start()
        for chunk in answer.iter_bytes():
            received += chunk
        ended.append(time.time())
        withdrawn.join()
    assert ended[0] - (opened + 3.0) < 5.0, "a withdrawn camera's stream ends within 5 s"
    out = tmp_path / "public.mp4"
    out.write_bytes(bytes(received))
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) >= 10
    judge = YuNetDetector(smallest_px=10, max_scale=2.0, cut_faces=True)
    assert [i for i, rgb in enumerate(frames) if judge.detect(rgb)] == []
    assert delay >= 10
    assert api.client.get("/api/v1/public/cameras/square/live.mp4").status_code == 404

    # Counted, never tracked: one stream and the seconds it sent, per camera and day.
    assert {c.name for c in PublicViewing.__table__.columns} == {
        "camera_id", "day", "streams", "seconds",
    }  # fmt: skip
    with api.env.services.db.read() as session:
        (viewing,) = session.scalars(select(PublicViewing))
    today = datetime.now(UTC).date()
    assert (viewing.camera_id, viewing.day, viewing.streams) == (camera, today, 1)
    assert viewing.seconds == pytest.approx(len(frames) / 5, abs=0.5)
    now = datetime.now(UTC)
    auditor = api.env.add_user("aud", Role.AUDITOR)
    report = api.env.services.transparency.report(auditor, Period(now - timedelta(days=1), now))
    seen = report["public_viewing"]["cameras"]["square"]
    assert seen == {"streams": 1, "watched_min": round(viewing.seconds / 60, 2)}


def test_each_client_gets_a_few_streams_and_requests(api: Api, datasets: Path) -> None:
    camera = add_camera(api.env, "square")
    _publish(api.env, "square")
    record_clip(api.env, camera, datasets / HAMILTON, time.time() - 20)
    limit = api.env.services.config.publishing.streams_per_client
    url = "/api/v1/public/cameras/square/live.mp4"
    with api.client.stream("GET", url) as first, api.client.stream("GET", url) as second:
        assert (first.status_code, second.status_code) == (200, 200)
        assert limit == 2
        third = api.client.get(url)
        assert third.status_code == 429
        assert "at most 2 public streams" in third.json()["error"]["message"]
    per_minute = api.env.services.config.publishing.requests_per_minute
    answers = [api.client.get("/api/v1/public/cameras").status_code for _ in range(per_minute)]
    assert answers[0] == 200
    assert 429 in answers
    refused = api.client.get("/public")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
