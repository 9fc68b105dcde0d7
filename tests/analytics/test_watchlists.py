"""Watchlists need a second person's approval; their matches need two people to act on."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import approved_entry, store_sightings_at
from tests.streams import people_folder, scene_video
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.errors import Conflict, Forbidden, InvalidInput
from vigil.search.vectors import decode
from vigil.sim.scenario import Renderer, Scenario, load_people
from vigil.store.models import WatchlistPhoto

NEXT_MONTH = datetime.now(UTC) + timedelta(days=30)


def _propose(env: Env, who: str, portrait: Path, **changes: object) -> int:
    ctx = env.add_user(who, Role.INVESTIGATOR)
    fields: dict[str, object] = {
        "basis": "court order under section 100 StPO",
        "reference": "AZ 12/34",
        "expires": NEXT_MONTH,
    } | changes
    info = env.services.watchlists.propose(
        ctx,
        "suspect A",
        [("a.jpg", portrait.read_bytes())],
        **fields,  # type: ignore[arg-type]
    )
    return info.id


def test_an_entry_needs_another_persons_approval(env: Env, portrait_path: Path) -> None:
    entry = _propose(env, "ivy", portrait_path)
    (info,) = env.services.watchlists.list(env.add_user("sam", Role.SUPERVISOR))
    assert info.to_dict()["status"] == "awaiting approval"
    assert info.photos == 1
    with pytest.raises(Forbidden):  # investigators cannot approve at all
        env.services.watchlists.approve(env.add_user("ian", Role.INVESTIGATOR), entry)
    approved = env.services.watchlists.approve(env.add_user("sue", Role.SUPERVISOR), entry)
    assert approved.approved_by == "sue"
    with pytest.raises(Conflict, match="approved already"):
        env.services.watchlists.approve(env.add_user("ivan", Role.SUPERVISOR), entry)


def test_a_supervisor_cannot_approve_their_own_entry(env: Env, portrait_path: Path) -> None:
    sam = env.add_user("sam", Role.SUPERVISOR)
    info = env.services.watchlists.propose(
        sam, "x", [("a.jpg", portrait_path.read_bytes())], basis="b", reference="r",
        expires=NEXT_MONTH,
    )  # fmt: skip
    with pytest.raises(Forbidden, match="own"):
        env.services.watchlists.approve(sam, info.id)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"expires": datetime.now(UTC) - timedelta(days=1)}, "in the future"),
        ({"expires": datetime.now(UTC) + timedelta(days=400)}, "within 365 days"),
        ({"basis": "  "}, "legal basis must not be empty"),
        ({"basis": "court order \u202eredro truoc"}, "invisible formatting"),
        ({"reference": "AZ\u200b12/34"}, "invisible formatting"),
        ({"reference": "\ufeffAZ 12/34"}, "invisible formatting"),
    ],
)
def test_bad_entries_are_refused(
    env: Env, portrait_path: Path, changes: dict[str, object], words: str
) -> None:
    with pytest.raises(InvalidInput, match=words):
        _propose(env, "ivy", portrait_path, **changes)
    assert env.services.watchlists.list(env.add_user("sam", Role.SUPERVISOR)) == []


def test_an_entry_is_ended_by_its_proposer_or_a_supervisor(env: Env, portrait_path: Path) -> None:
    first = _propose(env, "ivy", portrait_path)
    ian = env.add_user("ian", Role.INVESTIGATOR)
    with pytest.raises(Forbidden, match="ivy proposed it"):
        env.services.watchlists.end(ian, first)
    assert env.services.watchlists.end(env.acting("ivy"), first).ended_at is not None
    second = env.services.watchlists.propose(
        env.acting("ivy"), "suspect B", [("a.jpg", portrait_path.read_bytes())],
        basis="court order", reference="AZ 5", expires=NEXT_MONTH,
    )  # fmt: skip
    ended = env.services.watchlists.end(env.add_user("sue", Role.SUPERVISOR), second.id)
    assert ended.ended_at is not None


def test_a_photo_without_a_face_is_refused(env: Env) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), (120, 120, 120)).save(blank, format="PNG")
    ctx = env.add_user("ivy", Role.INVESTIGATOR)
    with pytest.raises(InvalidInput, match="no face"):
        env.services.watchlists.propose(
            ctx, "x", [("blank.png", blank.getvalue())], basis="b", reference="r",
            expires=NEXT_MONTH,
        )  # fmt: skip


@pytest.mark.slow
def test_matches_raise_alerts_that_two_people_must_confirm(
    env: Env, tmp_path: Path, portrait_path: Path
) -> None:
    add_camera(env, "gate")
    people = load_people(people_folder(tmp_path, portrait_path), None, random.Random(0))
    scenario = Scenario(["cam1"], people, datetime(2026, 1, 1, tzinfo=UTC), seed=1)
    video = scene_video(tmp_path / "walk.mp4", Renderer(scenario, "cam1"), 9)
    analyst = env.add_user("ana", Role.INVESTIGATOR)
    entry = _propose(env, "ivy", portrait_path)

    before = env.services.analytics.analyse_as_camera(analyst, video, "gate", datetime.now(UTC))
    assert before.alerts == 0  # not approved yet: nothing matches
    env.services.watchlists.approve(env.add_user("sue", Role.SUPERVISOR), entry)
    after = env.services.analytics.analyse_as_camera(analyst, video, "gate", datetime.now(UTC))
    assert 1 <= after.alerts <= len(after.sightings)  # walkers seen moments apart: merged

    olga = env.add_user("olga", Role.OPERATOR, groups=("city",))
    otto = env.add_user("otto", Role.OPERATOR, groups=("city",))
    alerts, rejected = env.services.alerts.list(olga, "pending")
    assert (len(alerts), rejected) == (after.alerts, 0)
    assert sum(a.sightings for a in alerts) == len(after.sightings)
    first = alerts[-1]
    assert (first.label, first.camera, first.entry_id) == ("suspect A", "gate", entry)
    assert first.similarity > 0.5
    # The shipped calibration's estimate: a match is at most the FMR 1e-4 point's distance.
    assert first.estimated_fmr is not None
    assert 0 < first.estimated_fmr <= 1e-3

    assert env.services.alerts.confirm(olga, first.id).state == "confirmed"
    with pytest.raises(Conflict, match="second, different person"):
        env.services.alerts.confirm(olga, first.id)
    assert env.services.alerts.confirm(otto, first.id).state == "actionable"
    with pytest.raises(Forbidden):
        env.services.alerts.confirm(analyst, first.id)  # investigators do not review alerts
    if len(alerts) > 1:
        assert env.services.alerts.reject(otto, alerts[0].id).state == "rejected"
        assert env.services.alerts.list(olga)[1] == 1

    with env.services.db.read() as session:
        raised = env.services.audit.entries(session, EntryFilter(action="alert.raise"))
        confirms = env.services.audit.entries(session, EntryFilter(action="alert.confirm"))
    assert {e.actor for e in raised} == {"system"}
    assert len(raised) == after.alerts
    assert [(e.actor, e.outcome) for e in reversed(confirms)] == [
        ("olga", "allowed"),
        ("olga", "denied"),
        ("otto", "allowed"),
        ("ana", "denied"),
    ]

    env.services.watchlists.end(env.acting("ivy"), entry)  # who proposed it
    again = env.services.analytics.analyse_as_camera(analyst, video, "gate", datetime.now(UTC))
    assert again.alerts == 0  # ended entries match nothing


def test_one_appearance_is_one_alert(env: Env, portrait_path: Path) -> None:
    """Sightings of the entry moments apart at one camera join the alert already raised."""
    gate, yard = add_camera(env, "gate"), add_camera(env, "yard")
    approved_entry(env, portrait_path)
    with env.services.db.read() as session:
        reference = decode(session.scalars(select(WatchlistPhoto.embedding).limit(1)).one())
    face = reference[np.newaxis, :]
    start = datetime.now(UTC) - timedelta(hours=1)

    def seen(camera: int, after_s: float) -> list[int]:
        ids = store_sightings_at(env, camera, face, start + timedelta(seconds=after_s))
        with env.services.db.write() as session:
            return [a.id for a in env.services.analytics.matcher.match(session, ids)]

    (first,) = seen(gate, 0)
    assert seen(gate, 20) == []  # 15 s after the first one ended: the same appearance
    assert seen(yard, 25) != []  # another camera: another alert
    assert seen(gate, 90) != []  # over a minute later: a new appearance
    olga = env.add_user("olga", Role.OPERATOR, groups=("city",))
    alerts = {a.id: a for a in env.services.alerts.list(olga)[0]}
    assert alerts[first].sightings == 2
    assert alerts[first].last_seen_at == start + timedelta(seconds=25)
    assert len(alerts) == 3
    with env.services.db.read() as session:
        again = env.services.audit.entries(session, EntryFilter(action="alert.seen_again"))
    assert [e.target for e in again] == [f"alert:{first}"]
