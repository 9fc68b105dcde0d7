"""No-identification zones on real footage: counts go on, faces stop where the analysis runs,
searches cannot reach the period, and marking or lifting takes two people."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, or_, select

from tests.conftest import Env
from tests.publishing.footage import HAMILTON, record_clip
from tests.recorded import add_camera
from vigil.audit.entry import AuditEntry
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.errors import Conflict, Forbidden, NotFound
from vigil.investigations.cases import CaseSpec
from vigil.recording.playback import recorded_pictures
from vigil.recording.service import TimeRange
from vigil.store.models import AlertRow, PeopleCount, SightingRow


def _world(env: Env) -> None:
    env.add_user("ada", Role.ADMIN)
    env.add_user("sue", Role.SUPERVISOR, groups=("plaza",))
    env.add_user("sam", Role.SUPERVISOR, groups=("elsewhere",))
    env.add_user("ivy", Role.INVESTIGATOR, groups=("plaza",))


def test_marking_and_lifting_a_zone_needs_two_people(env: Env) -> None:
    add_camera(env, "square", group="plaza")
    _world(env)
    zones, now = env.services.zones, datetime.now(UTC)
    ada, sue, sam = env.acting("ada"), env.acting("sue"), env.acting("sam")
    with pytest.raises(Forbidden):
        zones.propose(sue, "a rally", group="plaza", start=now)  # supervisors approve only
    zone = zones.propose(ada, "a rally on the square", group="plaza", start=now)
    assert zone.status == "awaiting approval"
    with pytest.raises(Forbidden):
        zones.approve(ada, zone.id)  # the proposer cannot approve
    with pytest.raises(NotFound):
        zones.approve(sam, zone.id)  # a supervisor of other cameras does not see it
    assert zones.approve(sue, zone.id).status == "in force"
    with pytest.raises(Conflict):
        zones.approve(sue, zone.id)
    with pytest.raises(Conflict):
        zones.approve_lift(sue, zone.id)  # nobody proposed lifting it
    assert [z.id for z in zones.list(sue)] == [zone.id]
    assert zones.list(sam) == []  # not his cameras
    assert zones.propose_lift(ada, zone.id).status == "lift awaiting approval"
    assert zones.approve_lift(sue, zone.id).status == "lifted"
    actions = [e.action for e in _entries(env) if e.action.startswith("zone.")]
    assert actions.count("zone.approve") >= 1
    assert {"zone.propose", "zone.lift.propose", "zone.lift.approve"} <= set(actions)


def _entries(env: Env) -> list[AuditEntry]:
    with env.services.db.read() as session:
        return list(env.services.audit.entries(session, EntryFilter(limit=1000)))


def _his_face(datasets: Path) -> bytes:
    """A frame of the clip where Lin-Manuel Miranda faces the camera: the watchlist photo."""
    pictures = recorded_pictures(datasets / HAMILTON, 0.0, 2)
    picture = next(p for i, p in enumerate(pictures) if i == 6)
    out = io.BytesIO()
    Image.fromarray(picture.rgb).save(out, format="JPEG", quality=92)
    return out.getvalue()


def _rows(env: Env, camera: int) -> tuple[int, int, int]:
    with env.services.db.read() as session:
        sightings = session.scalar(
            select(func.count(SightingRow.id)).where(SightingRow.camera_id == camera)
        )
        counts = session.scalar(
            select(func.count(PeopleCount.id)).where(PeopleCount.camera_id == camera)
        )
        alerts = session.scalar(select(func.count(AlertRow.id)))
    return int(sightings or 0), int(counts or 0), int(alerts or 0)


@pytest.mark.slow
def test_a_zone_counts_people_but_keeps_and_finds_no_face(env: Env, datasets: Path) -> None:
    """He is on the watchlist and walks past two cameras: the one outside the zone sees
    him and raises an alert; the one inside counts him and keeps nothing of his face, and
    a search of a case over both finds him only outside."""
    street, square = (
        add_camera(env, "street", group="open"),
        add_camera(env, "square", group="plaza"),
    )
    _world(env)
    for group in ("open",):
        env.services.groups.grant(env.local(), group, "sue")
        env.services.groups.grant(env.local(), group, "ivy")
    ada, sue, ivy = env.acting("ada"), env.acting("sue"), env.acting("ivy")
    photo = [("him.jpg", _his_face(datasets))]
    now = datetime.now(UTC)
    entry = env.services.watchlists.propose(
        ivy, "wanted", photo, basis="court order", reference="AZ 7", expires=now + timedelta(days=3)
    )
    env.services.watchlists.approve(sue, entry.id)
    zone = env.services.zones.propose(
        ada, "a protected assembly", group="plaza", start=now - timedelta(hours=1)
    )
    env.services.zones.approve(sue, zone.id)

    start = time.time() - 60
    for camera in (street, square):
        assert record_clip(env, camera, datasets / HAMILTON, start)
    span = (datetime.fromtimestamp(start - 5, UTC), datetime.now(UTC))
    for name in ("street", "square"):
        env.services.analytics.reanalyse(ada, name, *span)

    seen, counted, alerts = _rows(env, street)
    assert seen >= 1  # outside the zone: faces, counts and the alert
    assert counted >= 3
    assert alerts >= 1
    assert _rows(env, square)[:2] == (0, counted)  # inside: counts, not one face
    with env.services.db.read() as session:
        people = session.scalars(select(PeopleCount.people).where(PeopleCount.camera_id == square))
        assert max(people) >= 1  # he is counted
        on_square = session.scalar(
            select(func.count(AlertRow.id))
            .join(SightingRow, SightingRow.id == AlertRow.sighting_id)
            .where(SightingRow.camera_id == square)
        )
    assert on_square == 0

    case = env.services.cases.open(ivy, CaseSpec(
        "him", "court order", "AZ 7", "find him", span[0], span[1], now + timedelta(days=2),
        cameras=["street", "square"],
    ))  # fmt: skip
    env.services.cases.approve(sue, case.id)
    found = env.services.search.search(ivy, case.id, photo)
    assert found.results, "he is found where faces may be analysed"
    assert {c.camera for c in found.results} == {"street"}


def test_a_zone_reaches_back_but_keeps_what_is_evidence(env: Env, datasets: Path) -> None:
    """Sightings stored before the zone was approved: those of its period lose crop and
    descriptor at approval (their results are no longer listed, confirmable or reported),
    except evidence (a confirmed result of an open case, a hold), named to the approver."""
    square = add_camera(env, "square", group="plaza")
    _world(env)
    ada, sue, ivy = env.acting("ada"), env.acting("sue"), env.acting("ivy")
    start = time.time() - 60
    assert record_clip(env, square, datasets / HAMILTON, start)
    span = (datetime.fromtimestamp(start - 5, UTC), datetime.now(UTC))
    env.services.analytics.reanalyse(ada, "square", *span)
    now = datetime.now(UTC)
    case = env.services.cases.open(ivy, CaseSpec(
        "him", "court order", "AZ 7", "find him", span[0], span[1], now + timedelta(days=2),
        cameras=["square"],
    ))  # fmt: skip
    env.services.cases.approve(sue, case.id)
    found = env.services.search.search(ivy, case.id, [("him.jpg", _his_face(datasets))])
    assert len(found.results) >= 2, "one result to confirm, one left unconfirmed"
    confirmed = found.results[0].sighting_id
    env.services.search.confirm(ivy, case.id, [confirmed])
    with env.services.db.read() as session:
        stored = session.scalar(select(func.count(SightingRow.id)))
        held = session.get_one(SightingRow, found.results[1].sighting_id)
    hold = TimeRange(held.start - timedelta(seconds=0.1), held.end + timedelta(seconds=0.1))
    env.services.recordings.hold(ivy, "square", hold, "the incident at the door")

    zone = env.services.zones.propose(
        ada, "a clinic", group="plaza", start=now - timedelta(hours=1)
    )
    approved = env.services.zones.approve(sue, zone.id)
    why = {k.sighting: k.why for k in approved.kept}
    assert why[confirmed] == "a confirmed result of an open case"
    assert why[held.id] == "an evidence hold"
    assert set(why.values()) == {"a confirmed result of an open case", "an evidence hold"}
    assert approved.erased == stored - len(why)
    with env.services.db.read() as session:
        faces = session.execute(
            select(SightingRow.id).where(
                or_(SightingRow.crop.is_not(None), SightingRow.embedding.is_not(None))
            )
        )
        assert {row.id for row in faces} == set(why)
    listed = {c.sighting_id for c in env.services.search.results(ivy, case.id)}
    assert listed == set(why) & {c.sighting_id for c in found.results}
    lost = [c.sighting_id for c in found.results if c.sighting_id not in why]
    assert lost, "results that were no evidence"
    with pytest.raises(NotFound):
        env.services.search.confirm(ivy, case.id, lost[:1])
    assert env.services.search.crop(ivy, case.id, confirmed)
    (entry,) = [e for e in _entries(env) if e.action == "zone.approve"]
    assert (entry.details["erased"], sorted(entry.details["kept"])) == (
        stored - len(why),
        sorted(why),
    )
