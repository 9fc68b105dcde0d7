"""Organisations and their keys: who may register and issue, what a key is bounded by, and
the monthly usage (table, CSV, JSON) that the transparency report's third-party minutes
agree with."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env
from tests.recorded import add_camera
from vigil.audit.log import EntryFilter
from vigil.audit.transparency import Period
from vigil.auth.roles import Permission, RequestContext, Role
from vigil.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from vigil.partners.metering import Meter, month_span
from vigil.partners.organisations import KeyInfo, KeySpec
from vigil.store.models import UsageRow

NOW = datetime.now(UTC)


def _spec(*cameras: str, quota_s: int = 600, days: float = 1) -> KeySpec:
    return KeySpec(list(cameras), NOW - timedelta(hours=1), NOW + timedelta(days=days), quota_s)


def _world(env: Env) -> None:
    add_camera(env, "gate", group="ga")
    add_camera(env, "yard", group="gb")
    env.add_user("ada", Role.ADMIN)
    env.add_user("aud", Role.AUDITOR)
    env.add_user("sue", Role.SUPERVISOR, groups=("ga", "gb"))
    env.add_user("sam", Role.SUPERVISOR, groups=("ga",))  # not of yard's group
    env.services.partners.register(env.acting("ada"), "insurer", "Insurer Ltd", "claims")


def _issued(env: Env, organisation: str, spec: KeySpec) -> tuple[KeyInfo, str]:
    """A key issued by an admin and approved by a supervisor of its cameras."""
    info, secret = env.services.partners.issue(env.acting("ada"), organisation, spec)
    return env.services.partners.approve(env.acting("sue"), info.id), secret


def test_a_key_takes_two_people_and_either_revokes_it(env: Env) -> None:
    """An admin issues, a supervisor of every one of the key's cameras' groups approves;
    until then the key does not work; either side revokes it."""
    _world(env)
    partners, ada, sue, sam = (
        env.services.partners, env.acting("ada"), env.acting("sue"), env.acting("sam"),
    )  # fmt: skip
    info, secret = partners.issue(ada, "insurer", _spec("gate", "yard"))
    assert info.status(datetime.now(UTC)) == "awaiting approval"
    with pytest.raises(NotAuthenticated, match="awaits a supervisor"):
        partners.grants.authenticate(secret, "test")
    with pytest.raises(Forbidden):
        partners.approve(ada, info.id)  # the admin who issued it, without partners.approve
    with pytest.raises(NotFound):
        partners.approve(sam, info.id)  # yard is outside his groups: no such key for him
    with pytest.raises(NotFound):
        partners.revoke(sam, info.id)
    approved = partners.approve(sue, info.id)
    assert (approved.approved_by, approved.status(datetime.now(UTC))) == ("sue", "active")
    with pytest.raises(Conflict):
        partners.approve(sue, info.id)
    assert partners.grants.authenticate(secret, "test").cameras.keys() == {"gate", "yard"}
    assert partners.revoke(sue, info.id).revoked_by == "sue"  # the approver's side revokes
    with pytest.raises(NotAuthenticated, match="revoked"):
        partners.grants.authenticate(secret, "test")
    with env.services.db.read() as session:
        steps = env.services.audit.entries(session, EntryFilter(action="partner_key.approve"))
    assert [(e.actor, e.outcome) for e in reversed(steps)] == [
        ("ada", "denied"), ("sam", "denied"), ("sue", "allowed"), ("sue", "denied"),
    ]  # fmt: skip


def test_only_admins_register_and_issue_and_a_key_is_bounded(env: Env) -> None:
    _world(env)
    partners, ada, sue = env.services.partners, env.acting("ada"), env.acting("sue")
    with pytest.raises(Forbidden):
        partners.register(sue, "utility", "Utility", "cables")
    with pytest.raises(Forbidden):
        partners.issue(sue, "insurer", _spec("gate"))
    with pytest.raises(Conflict):
        partners.register(ada, "insurer", "Again", "x")
    with pytest.raises(InvalidInput):
        partners.register(ada, "Bad Name", "x", "x")
    for bad in (
        _spec(),  # no camera
        _spec("gate", quota_s=0),
        _spec("gate", days=400),  # a window of over a year
        KeySpec(["gate"], NOW, NOW - timedelta(hours=1), 60),  # ends before it starts
    ):
        with pytest.raises(InvalidInput):
            partners.issue(ada, "insurer", bad)
    with pytest.raises(NotFound):
        partners.issue(ada, "insurer", _spec("nowhere"))
    with pytest.raises(NotFound):
        partners.issue(ada, "nobody", _spec("gate"))

    info, secret = _issued(env, "insurer", _spec("gate", "gate"))
    assert info.cameras == ["gate"]
    grant = partners.grants.authenticate(secret, "test")
    assert grant.principal.name == "org:insurer"
    assert not any(grant.principal.can(p) for p in Permission)  # it holds no permission
    assert grant.camera_id("gate") > 0
    with pytest.raises(NotFound):
        grant.camera_id("yard")
    with pytest.raises(NotAuthenticated):
        partners.grants.authenticate(secret + "x", "test")
    later, later_secret = _issued(
        env, "insurer", KeySpec(["gate"], NOW + timedelta(days=1), NOW + timedelta(days=2), 60)
    )
    with pytest.raises(NotAuthenticated, match="valid from"):
        partners.grants.authenticate(later_secret, "test")
    partners.revoke(ada, info.id)
    with pytest.raises(Conflict):
        partners.revoke(ada, info.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        partners.grants.authenticate(secret, "test")
    listed = partners.list(env.acting("aud"))  # auditors read them too
    assert [(k.id, k.status(datetime.now(UTC))) for k in listed[0].keys] == [
        (info.id, "revoked"),
        (later.id, "not yet valid"),
    ]
    with pytest.raises(Forbidden):
        partners.list(sue)
    with env.services.db.read() as session:
        issued = env.services.audit.entries(session, EntryFilter(action="partner_key.issue"))
    assert [e.outcome for e in issued].count("allowed") == 2
    assert secret not in json.dumps([dict(e.details) for e in issued])  # never the secret


def _used(env: Env, key_secret: str, camera: str, kind: str, seconds: float, at: datetime) -> None:
    """A stream or export of that many seconds, begun at ``at``, metered as it would be."""
    grant = env.services.partners.grants.authenticate(key_secret, "test")
    ctx = env.local()
    meter = env.services.metering.open(ctx, grant, camera, kind)  # type: ignore[arg-type]
    meter.add(seconds - 1.0, 1000)
    meter.add(1.0, 500)
    with env.services.db.write() as session:
        session.execute(update(UsageRow).where(UsageRow.id == meter.usage_id).values(started_at=at))


def test_usage_per_month_as_table_csv_and_json_and_in_the_transparency_report(
    env: Env, tmp_path: Path
) -> None:
    _world(env)
    ada = env.acting("ada")
    env.services.partners.register(ada, "tv", "Channel Nine", "news")
    _, insurer = _issued(env, "insurer", _spec("gate", "yard"))
    _, tv = _issued(env, "tv", _spec("gate"))
    month = (
        f"{NOW.replace(day=1) - timedelta(days=1):%Y-%m}"  # last month: a report's period has ended
    )
    first, end = month_span(month)
    _used(env, insurer, "gate", "live", 90.0, first + timedelta(days=1))
    _used(env, insurer, "gate", "live", 30.0, first + timedelta(days=2))
    _used(env, insurer, "yard", "export", 12.5, first + timedelta(days=3))
    _used(env, insurer, "gate", "live", 999.0, first - timedelta(seconds=1))  # last month
    _used(env, tv, "gate", "live", 60.0, first + timedelta(days=1))

    report = env.services.metering.usage(env.acting("aud"), "insurer", month)
    assert (report.watched_s, report.exports, report.exported_s) == (120.0, 1, 12.5)
    assert [(line.camera, line.kind, line.sessions) for line in report.lines] == [
        ("gate", "live", 2),
        ("yard", "export", 1),
    ]
    with pytest.raises(Forbidden):
        env.services.metering.usage(env.acting("sue"), "insurer", month)
    with pytest.raises(InvalidInput):
        env.services.metering.usage(ada, "insurer", "2026-13")

    (tmp_path / "pw").write_text(PASSWORD)
    login = ("--user", "aud", "--password-file", str(tmp_path / "pw"))
    ask = ("usage", "--org", "insurer", "--month", month)
    shown = vigil(env.data_dir, *login, *ask)
    assert shown.code == 0, shown.stderr
    assert "watched 2.00 min; 1 exports, 0.21 min" in shown.stdout
    wrote = vigil(env.data_dir, *login, *ask, "--format", "csv", "--out", str(tmp_path / "u.csv"))
    assert wrote.code == 0, wrote.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "u.csv").read_text())))
    assert [(r["camera"], r["kind"], r["seconds"]) for r in rows] == [
        ("gate", "live", "120.000"),
        ("yard", "export", "12.500"),
    ]
    as_json = vigil(env.data_dir, *login, *ask, "--format", "json")
    assert as_json.code == 0, as_json.stderr
    assert as_json.json()["watched_s"] == 120.0
    flag = vigil(env.data_dir, *login, *ask, "--json")  # as every command takes it
    assert flag.code == 0, flag.stderr
    assert flag.json() == as_json.json()
    assert vigil(env.data_dir, *login, *ask, "--json", "--format", "csv").code == 2
    assert vigil(env.data_dir, *login, *ask, "--format", "pdf").code == 2

    transparency = env.services.transparency.report(env.acting("aud"), Period(first, end))
    assert transparency["third_party_minutes"] == {
        "insurer": {"watched_min": 2.0, "exported_min": 0.21, "exports": 1},
        "tv": {"watched_min": 1.0, "exported_min": 0.0, "exports": 0},
    }


def test_the_org_commands_register_issue_list_and_revoke(env: Env, tmp_path: Path) -> None:
    _world(env)
    (tmp_path / "pw").write_text(PASSWORD)
    login = ("--user", "ada", "--password-file", str(tmp_path / "pw"))
    made = vigil(env.data_dir, *login, "org", "register", "utility", "--title", "City Power",
                 "--purpose", "cable works")  # fmt: skip
    assert made.code == 0, made.stderr
    window = ("--from", NOW.isoformat(), "--to", (NOW + timedelta(days=7)).isoformat())
    issued = vigil(env.data_dir, *login, "org", "key", "utility", "--camera", "gate",
                   "--camera", "yard", *window, "--quota-minutes", "30", "--json")  # fmt: skip
    assert issued.code == 0, issued.stderr
    key = issued.json()
    assert key["key"]["quota_s"] == 1800
    assert key["key"]["status"] == "awaiting approval"
    as_sue = ("--user", "sue", "--password-file", str(tmp_path / "pw"))
    approved = vigil(env.data_dir, *as_sue, "org", "approve", str(key["key"]["id"]), "--json")
    assert approved.code == 0, approved.stderr
    assert approved.json()["approved_by"] == "sue"
    assert env.services.partners.grants.authenticate(key["secret"], "test").cameras.keys() == {
        "gate",
        "yard",
    }
    listed = vigil(env.data_dir, *login, "org", "list")
    assert "utility" in listed.stdout
    assert "active" in listed.stdout
    revoked = vigil(env.data_dir, *login, "org", "revoke", str(key["key"]["id"]))
    assert revoked.code == 0, revoked.stderr
    with pytest.raises(NotAuthenticated):
        env.services.partners.grants.authenticate(key["secret"], "test")


def test_exports_reserve_their_seconds_so_parallel_ones_cannot_overrun_the_quota(env: Env) -> None:
    """The reproduction: a key with 31 s left starts two 30 s exports at once. Each reserves
    its range before rendering, alone per key: one passes, the other is refused, and what is
    given back (nothing delivered) is free again."""
    _world(env)
    partners, metering = env.services.partners, env.services.metering
    _, secret = _issued(env, "insurer", _spec("gate", quota_s=61))
    stale = partners.grants.authenticate(
        secret, "test"
    )  # both requests read the grant before either reserves
    ctx = RequestContext(stale.principal, "reserve")
    metering.reserve(ctx, stale, "gate", 30.0)  # 31 s left
    outcomes: list[str] = []

    def export() -> None:
        try:
            metering.reserve(ctx, stale, "gate", 30.0)
            outcomes.append("reserved")
        except Forbidden:
            outcomes.append("refused")

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "reserved"]
    assert partners.grants.authenticate(secret, "test").used_s == 60.0
    with env.services.db.read() as session:
        rows = list(session.scalars(select(UsageRow).order_by(UsageRow.id)))
    last = Meter(metering, rows[-1].id, stale, "gate")
    metering.give_back(last)
    assert partners.grants.authenticate(secret, "test").used_s == 30.0
    assert metering.reserve(ctx, stale, "gate", 31.0).seconds == 0.0  # held, not yet played
    with env.services.db.read() as session:
        reserved = env.services.audit.entries(session, EntryFilter(action="partner.export"))
    assert sorted(e.details["reserved_s"] for e in reserved if e.outcome == "allowed") == [
        30.0,
        30.0,
        31.0,
    ]
