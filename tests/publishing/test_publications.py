"""Making a camera public takes two people (an admin proposes, a supervisor approves), and
each step is audited; either withdraws it at once."""

from __future__ import annotations

import pytest

from tests.conftest import Env
from tests.recorded import add_camera
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound


@pytest.fixture
def people(env: Env) -> Env:
    add_camera(env, "square", group="centre")
    env.add_user("ada", Role.ADMIN)
    env.add_user("sam", Role.SUPERVISOR, groups=("centre",))
    env.add_user("sid", Role.SUPERVISOR)  # not in the camera's group
    env.add_user("ivy", Role.INVESTIGATOR, groups=("centre",))
    return env


def _actions(env: Env, action: str) -> list[tuple[str, Outcome]]:
    with env.services.db.read() as session:
        found = env.services.audit.entries(session, EntryFilter(action=action))
    return [(e.actor, e.outcome) for e in sorted(found, key=lambda e: e.seq)]


def test_a_camera_is_public_only_once_a_second_person_approves(people: Env) -> None:
    s = people.services
    proposal = s.publications.propose(people.acting("ada"), "square", "the market square")
    assert proposal.status == "awaiting approval"
    assert s.publications.public_cameras() == []
    with pytest.raises(Forbidden):
        s.publications.approve(people.acting("ada"), proposal.id)  # admins cannot approve
    # Outside the camera's group, a publication is as absent as one that never was: the
    # same answer, which does not name the camera.
    with pytest.raises(NotFound) as outside:
        s.publications.approve(people.acting("sid"), proposal.id)
    with pytest.raises(NotFound) as absent:
        s.publications.approve(people.acting("sid"), proposal.id + 99)
    assert outside.value.message == f"no publication {proposal.id}"
    assert absent.value.message == f"no publication {proposal.id + 99}"
    assert "square" not in str(outside.value.to_dict())
    with pytest.raises(Forbidden):
        s.publications.approve(people.acting("ivy"), proposal.id)
    assert s.publications.public_cameras() == []
    approved = s.publications.approve(people.acting("sam"), proposal.id)
    assert (approved.status, approved.approved_by) == ("public", "sam")
    assert [c.name for c in s.publications.public_cameras()] == ["square"]
    assert _actions(people, "publication.propose") == [("ada", Outcome.ALLOWED)]
    assert _actions(people, "publication.approve") == [
        ("ada", Outcome.DENIED),
        ("sid", Outcome.DENIED),
        ("sid", Outcome.DENIED),
        ("ivy", Outcome.DENIED),
        ("sam", Outcome.ALLOWED),
    ]


@pytest.mark.parametrize("who", ["ada", "sam"])
def test_either_person_withdraws_it_at_once(people: Env, who: str) -> None:
    s = people.services
    proposal = s.publications.propose(people.acting("ada"), "square", "the market square")
    s.publications.approve(people.acting("sam"), proposal.id)
    withdrawn = s.publications.withdraw(people.acting(who), proposal.id)
    assert (withdrawn.status, withdrawn.withdrawn_by) == ("withdrawn", who)
    assert s.publications.public_cameras() == []
    with pytest.raises(Conflict):
        s.publications.approve(people.acting("sam"), proposal.id)
    assert _actions(people, "publication.withdraw") == [(who, Outcome.ALLOWED)]
    again = s.publications.propose(people.acting("ada"), "square", "the festival, again")
    assert again.status == "awaiting approval"  # a new decision, by two people again


def test_bad_proposals_change_nothing(people: Env) -> None:
    s = people.services
    ada = people.acting("ada")
    with pytest.raises(InvalidInput):
        s.publications.propose(ada, "square", "  ")
    with pytest.raises(NotFound):
        s.publications.propose(ada, "nowhere", "a reason")
    with pytest.raises(Forbidden):
        s.publications.propose(people.acting("sam"), "square", "a reason")
    s.publications.propose(ada, "square", "a reason")
    with pytest.raises(Conflict):
        s.publications.propose(ada, "square", "twice")
    assert [p.reason for p in s.publications.list(ada)] == ["a reason"]
    assert s.publications.list(people.acting("sid")) == []  # outside the camera's group
    with pytest.raises(Forbidden):
        s.publications.list(people.acting("ivy"))
