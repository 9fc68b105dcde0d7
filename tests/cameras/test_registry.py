"""The camera registry on SQLite and PostgreSQL: secrets stay secret, every change audited."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import Env
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.cameras.registry import CameraSpec
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound

SECRET_URL = "rtsp://operator:Sup3r-S3cret@10.20.30.40:554/Streaming/101"


def test_credentials_are_encrypted_and_never_shown(env: Env) -> None:
    registry = env.services.cameras
    info = registry.add(env.local(), CameraSpec("gate-1", SECRET_URL, site="north", region="n"))
    assert info.url == "rtsp://10.20.30.40:554/Streaming/101"
    assert info.username == "operator"
    assert "Sup3r" not in repr(info.to_dict())
    with env.services.db.read() as session:
        stored = session.execute(text("SELECT url, credentials FROM cameras")).one()
        audit = session.execute(text("SELECT details FROM audit_entries")).scalars().all()
    assert b"Sup3r" not in bytes(stored.credentials)
    assert "Sup3r" not in stored.url
    assert not any("Sup3r" in d or "operator" in d for d in audit)  # nor its user name
    assert registry.stream("gate-1").full() == SECRET_URL  # for ingest only


def test_query_secrets_are_never_shown_but_used(env: Env) -> None:
    url = "https://x.example/live.m3u8?token=s3cret-value"
    registry = env.services.cameras
    info = registry.add(env.local(), CameraSpec("hls", url))
    assert info.url == "https://x.example/live.m3u8?token=***"
    assert "s3cret" not in repr(registry.list(env.local()))
    with env.services.db.read() as session:
        audit = session.execute(text("SELECT details FROM audit_entries")).scalars().all()
    assert not any("s3cret" in d for d in audit)
    assert registry.stream("hls").full() == url  # for ingest only


def test_sites_regions_and_groups_are_made_on_first_use(env: Env) -> None:
    registry = env.services.cameras
    registry.add(env.local(), CameraSpec("a", "rtsp://h/a", site="s1", region="r1", group="g"))
    registry.add(env.local(), CameraSpec("b", "rtsp://h/b", site="s1", region="r1", group="g"))
    with pytest.raises(Conflict, match="another region"):
        registry.add(env.local(), CameraSpec("c", "rtsp://h/c", site="s1", region="r2"))
    assert [(c.name, c.site, c.region, c.group) for c in registry.list(env.local())] == [
        ("a", "s1", "r1", "g"),
        ("b", "s1", "r1", "g"),
    ]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        (CameraSpec("a/b", "rtsp://h/x"), InvalidInput),
        (CameraSpec("ok", "ftp://h/x"), InvalidInput),
        (CameraSpec("ok", "rtsp://h/x", latitude=91.0, longitude=0.0), InvalidInput),
        (CameraSpec("ok", "rtsp://h/x", latitude=1.0), InvalidInput),
        (CameraSpec("ok", "rtsp://h/x", site="../up"), InvalidInput),
        (CameraSpec("ok", "rtsp://h/x", analysis_fps=0.0), InvalidInput),
        (CameraSpec("ok", "rtsp://h/x", analysis_fps=float("nan")), InvalidInput),
    ],
)
def test_bad_registrations_change_nothing(env: Env, spec: CameraSpec, error: type) -> None:
    with pytest.raises(error):
        env.services.cameras.add(env.local(), spec)
    assert env.services.cameras.list(env.local()) == []
    with env.services.db.read() as session:
        denied = env.services.audit.entries(session, EntryFilter(action="camera.create"))
    assert [e.outcome for e in denied] == ["denied"]


def test_only_admins_manage_cameras(env: Env) -> None:
    operator = env.add_user("olga", Role.OPERATOR)
    with pytest.raises(Forbidden):
        env.services.cameras.add(operator, CameraSpec("x", "rtsp://h/x"))
    env.services.cameras.add(env.local(), CameraSpec("x", "rtsp://h/x"))
    with pytest.raises(Forbidden):
        env.services.cameras.remove(operator, "x")
    env.services.cameras.remove(env.local(), "x")
    with pytest.raises(NotFound):
        env.services.cameras.show(env.local(), "x")


def test_a_camera_has_its_own_analysis_rate_on_record(env: Env) -> None:
    registry = env.services.cameras
    assert registry.add(env.local(), CameraSpec("lobby", "rtsp://h/l")).analysis_fps is None
    assert registry.set_analysis_fps(env.local(), "lobby", 2.0).analysis_fps == 2.0
    with pytest.raises(InvalidInput, match="at most 60"):
        registry.set_analysis_fps(env.local(), "lobby", 61.0)
    with pytest.raises(Forbidden):
        registry.set_analysis_fps(env.add_user("olga", Role.OPERATOR), "lobby", 1.0)
    assert registry.show(env.local(), "lobby").analysis_fps == 2.0
    assert registry.set_analysis_fps(env.local(), "lobby", None).analysis_fps is None
    with env.services.db.read() as session:
        changes = env.services.audit.entries(session, EntryFilter(action="camera.analysis_rate"))
    assert [(e.outcome, e.details.get("to")) for e in reversed(changes)] == [
        ("allowed", 2.0),
        ("denied", None),
        ("denied", None),
        ("allowed", None),
    ]
