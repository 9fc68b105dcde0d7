"""Cases: opened by one person, approved by another, scoped, expiring; urgent ones sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, update

from tests.conftest import Env
from tests.investigations.world import (
    NOON,
    approved_case,
    her_sightings,
    hopper,
    mirrored,
    spec,
    strangers,
    world,
)
from tests.sightings import sightings_at
from vigil.analytics.expiry import expire_biometrics
from vigil.analytics.sightings import store_sightings
from vigil.audit.log import EntryFilter
from vigil.auth.roles import RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound
from vigil.investigations.search import SearchResult
from vigil.recording.records import Segment
from vigil.store.models import CaseResult, CaseRow, SightingRow


def _search(env: Env, ctx: RequestContext, case: int, portrait: Path) -> SearchResult:
    return env.services.search.search(ctx, case, [("probe.jpg", mirrored(portrait))])


def test_the_requester_cannot_approve_and_nobody_searches_before_approval(
    env: Env, portrait_path: Path
) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = env.services.cases.open(w.ivy, spec(["gate"]))
    assert (case.state, case.members) == ("requested", ["ivy"])
    with pytest.raises(Forbidden, match="not approved"):
        _search(env, w.ivy, case.id, portrait_path)
    with pytest.raises(Forbidden):  # an investigator holds no approval right
        env.services.cases.approve(w.ivy, case.id)
    boss = env.add_user("bea", Role.SUPERVISOR)
    env.services.groups.grant(env.local(), "city", "bea")
    with pytest.raises(Forbidden):  # supervisors decide on cases; they do not open them
        env.services.cases.open(boss, spec(["gate"]))

    approved = env.services.cases.approve(w.sue, case.id)
    assert (approved.state, approved.decided_by) == ("approved", "sue")
    assert approved.members == ["ivy", "sue"]
    with pytest.raises(Conflict):
        env.services.cases.approve(boss, case.id)  # decided already
    assert _search(env, w.ivy, case.id, portrait_path).results


def test_nobody_approves_their_own_case(env: Env) -> None:
    w = world(env)
    lead = env.add_user("lea", Role.INVESTIGATOR)
    env.services.groups.grant(env.local(), "city", "lea")
    case = env.services.cases.open(lead, spec(["gate"]))
    # A supervisor's own case cannot exist (no cases.open), so try it through the row.
    with env.services.db.write() as session:
        session.execute(update(CaseRow).values(requested_by="sue"))
    with pytest.raises(Forbidden, match="own case"):
        env.services.cases.approve(w.sue, case.id)
    with env.services.db.read() as session:
        denied = env.services.audit.entries(session, EntryFilter(action="case.approve"))
    assert [e.outcome for e in denied] == ["denied"]


def test_only_members_see_a_case_and_its_results(env: Env, portrait_path: Path) -> None:
    w = world(env)
    seen = her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    other = env.add_user("otto", Role.INVESTIGATOR)
    with pytest.raises(NotFound):
        _search(env, other, case, portrait_path)
    with pytest.raises(NotFound):
        env.services.search.results(other, case)
    assert env.services.cases.list(other) == []
    assert [c.id for c in env.services.cases.list(w.sue)] == [case]  # to decide on it
    # Camera groups bound membership: otto, in none of them, cannot be added...
    with pytest.raises(InvalidInput, match="not in the camera groups of gate"):
        env.services.cases.add_member(w.ivy, case, "otto")
    env.services.groups.grant(env.local(), "city", "otto")
    env.services.cases.add_member(w.ivy, case, "otto")
    assert _search(env, other, case, portrait_path).results
    # ... and once out of the group, a member reads nothing the cameras saw.
    env.services.groups.revoke(env.local(), "city", "otto")
    for read in (
        lambda: _search(env, other, case, portrait_path),
        lambda: env.services.search.results(other, case),
        lambda: env.services.reports.report(other, case, "html"),
        lambda: env.services.search.crop(other, case, seen[0]),
    ):
        with pytest.raises(Forbidden, match="not in the camera groups of gate"):
            read()
    operator = env.add_user("olga", Role.OPERATOR)
    with pytest.raises(InvalidInput, match="may not search"):
        env.services.cases.add_member(w.ivy, case, "olga")
    with pytest.raises(Forbidden):
        env.services.cases.list(operator)


def test_out_of_scope_sightings_are_never_returned(env: Env, portrait_path: Path) -> None:
    w = world(env)
    inside = her_sightings(w, portrait_path, "gate", NOON, n=3)
    her_sightings(w, portrait_path, "yard", NOON, n=3)  # camera outside the scope
    her_sightings(w, portrait_path, "gate", NOON + timedelta(hours=7), n=2)  # after the window
    her_sightings(w, portrait_path, "gate", NOON - timedelta(days=1), n=2)  # another day
    strangers(w, "gate", NOON, 20)
    case = approved_case(w, ["gate", "hall"])
    result = _search(env, w.ivy, case, portrait_path)
    assert sorted(c.sighting_id for c in result.results) == inside
    assert all(c.match and c.camera == "gate" for c in result.results)
    assert result.in_scope == 23


def test_groups_scope_their_cameras_and_hidden_cameras_are_refused(env: Env) -> None:
    w = world(env)
    env.services.cameras.add(env.local(), CameraSpec("vault", "rtsp://h/vault", group="secret"))
    case = env.services.cases.open(w.ivy, spec([], groups=["city"]))
    assert case.cameras == ["gate", "hall", "yard"]
    with pytest.raises(NotFound):  # ivy is not in group "secret": she may not scope it
        env.services.cases.open(w.ivy, spec(["gate", "vault"]))
    with pytest.raises(InvalidInput):
        env.services.cases.open(w.ivy, spec(["gate"], groups=["city"]))
    with pytest.raises(InvalidInput):
        env.services.cases.open(w.ivy, spec(["gate"], start=NOON, end=NOON))
    with pytest.raises(InvalidInput):
        env.services.cases.open(w.ivy, spec(["gate"], expires=datetime.now(UTC)))
    assert [c.id for c in env.services.cases.list(w.ivy)] == [case.id]


def test_an_expired_or_rejected_case_refuses(env: Env, portrait_path: Path) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    with env.services.db.write() as session:
        session.execute(update(CaseRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(Forbidden, match="expired"):
        _search(env, w.ivy, case, portrait_path)
    assert env.services.cases.show(w.ivy, case).status(datetime.now(UTC)) == "expired"

    rejected = env.services.cases.open(w.ivy, spec(["gate"]))
    env.services.cases.reject(w.sue, rejected.id)
    with pytest.raises(Forbidden, match="rejected"):
        _search(env, w.ivy, rejected.id, portrait_path)


def test_an_urgent_case_not_approved_in_time_is_sealed(env: Env, portrait_path: Path) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON, n=2)
    case = env.services.cases.open(w.ivy, spec(["gate"], urgent=True))
    result = _search(env, w.ivy, case.id, portrait_path)  # before approval: urgent
    assert len(result.results) == 2
    assert env.services.cases.seal_overdue(datetime.now(UTC) + timedelta(hours=47)) == 0
    assert env.services.cases.seal_overdue(datetime.now(UTC) + timedelta(hours=49)) == 1
    with env.services.db.read() as session:
        assert session.scalars(select(CaseResult)).all() == []
        assert session.get_one(CaseRow, case.id).state == "sealed"
        sealed = env.services.audit.entries(session, EntryFilter(action="case.seal"))
    assert sealed[0].details["results_deleted"] == 2
    with pytest.raises(Forbidden, match="sealed"):
        _search(env, w.ivy, case.id, portrait_path)
    with pytest.raises(Conflict):
        env.services.cases.approve(w.sue, case.id)


def test_an_urgent_case_approved_in_time_keeps_its_results(env: Env, portrait_path: Path) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = env.services.cases.open(w.ivy, spec(["gate"], urgent=True))
    _search(env, w.ivy, case.id, portrait_path)
    env.services.cases.approve(w.sue, case.id)
    assert env.services.cases.seal_overdue(datetime.now(UTC) + timedelta(hours=49)) == 0
    assert len(env.services.search.results(w.ivy, case.id)) == 1


def test_open_cases_keep_their_results_biometrics_until_closed(
    env: Env, portrait_path: Path
) -> None:
    w = world(env)
    kept = her_sightings(w, portrait_path, "gate", NOON, n=2)
    others = strangers(w, "gate", NOON, 3)
    case = approved_case(w, ["gate"])
    _search(env, w.ivy, case, portrait_path)
    later = datetime.now(UTC) + timedelta(days=30)
    assert expire_biometrics(env.services.access, timedelta(hours=72), later) == 3

    def described() -> set[int]:
        with env.services.db.read() as session:
            return set(
                session.scalars(select(SightingRow.id).where(SightingRow.embedding.is_not(None)))
            )

    assert described() == set(kept)
    assert [c.face_stored for c in env.services.search.results(w.ivy, case)] == [True, True]
    env.services.cases.close(w.ivy, case)
    assert expire_biometrics(env.services.access, timedelta(hours=72), later) == 2
    assert described() == set()
    assert [c.face_stored for c in env.services.search.results(w.ivy, case)] == [False, False]
    assert others


def test_hits_outside_the_window_do_not_crowd_out_those_inside(
    env: Env, portrait_path: Path
) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON - timedelta(hours=11), n=6)  # same day, before
    (inside,) = her_sightings(w, portrait_path, "gate", NOON + timedelta(minutes=30))
    case = approved_case(w, ["gate"], start=NOON, end=NOON + timedelta(hours=1))
    found = env.services.search.search(w.ivy, case, [("p.jpg", mirrored(portrait_path))], limit=1)
    assert [c.sighting_id for c in found.results] == [inside]
    assert found.in_scope == 1


def test_reanalysing_a_segment_keeps_the_sightings_a_case_found(
    env: Env, portrait_path: Path
) -> None:
    w = world(env)
    segment = env.services.segments.add(
        Segment(0, w.cameras["gate"], NOON, NOON + timedelta(seconds=4), 1, "0" * 64, "1/s.mp4")
    )
    vectors = (
        hopper(portrait_path).descriptor + np.zeros((2, hopper(portrait_path).descriptor.size))
    ).astype(np.float32)
    with env.services.db.write() as session:
        first = store_sightings(
            session, w.cameras["gate"], sightings_at(vectors, NOON), source="segment",
            segment_id=segment.id,
        )  # fmt: skip
    case = approved_case(w, ["gate"])
    found = env.services.search.search(w.ivy, case, [("p.jpg", mirrored(portrait_path))], limit=1)
    (kept,) = [c.sighting_id for c in found.results]
    with env.services.db.write() as session:  # the segment is analysed again
        again = store_sightings(
            session, w.cameras["gate"], sightings_at(vectors, NOON), source="segment",
            segment_id=segment.id,
        )  # fmt: skip
    with env.services.db.read() as session:
        rows = {r.id: r for r in session.scalars(select(SightingRow))}
    assert set(rows) == {kept, *again}  # the other first sighting was replaced
    assert rows[kept].segment_id is None
    assert rows[kept].source == "segment, kept as evidence"
    assert kept in first
    assert [c.sighting_id for c in env.services.search.results(w.ivy, case)] == [kept]
