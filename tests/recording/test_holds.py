"""Evidence holds stay inside camera groups, belong to who placed them, and are bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Env
from tests.recorded import add_camera
from vigil.auth.roles import RequestContext, Role
from vigil.errors import Forbidden, InvalidInput, NotFound
from vigil.recording.service import TimeRange
from vigil.store.models import EvidenceHold

NOW = datetime.now(UTC)
HOUR = TimeRange(NOW - timedelta(hours=2), NOW - timedelta(hours=1))


def _people(env: Env) -> tuple[RequestContext, RequestContext, RequestContext]:
    """ivy (investigator of ga), sam (supervisor of ga and gb), bob (investigator of ga)."""
    add_camera(env, "north", group="ga")
    add_camera(env, "south", group="gb")
    ivy = env.add_user("ivy", Role.INVESTIGATOR)
    sam = env.add_user("sam", Role.SUPERVISOR)
    bob = env.add_user("bob", Role.INVESTIGATOR)
    for group, user in (("ga", "ivy"), ("ga", "sam"), ("gb", "sam"), ("ga", "bob")):
        env.services.groups.grant(env.local(), group, user)
    return ivy, sam, bob


def _holds(env: Env) -> int:
    with env.services.db.read() as session:
        return session.scalar(select(func.count()).select_from(EvidenceHold)) or 0


def test_holds_stay_inside_the_callers_camera_groups(env: Env) -> None:
    ivy, sam, _ = _people(env)
    with pytest.raises(NotFound, match="no camera named 'south'"):
        env.services.recordings.hold(ivy, "south", HOUR, "not my camera")
    assert _holds(env) == 0
    theirs = env.services.recordings.hold(sam, "south", HOUR, "gb incident")
    mine = env.services.recordings.hold(ivy, "north", HOUR, "ga incident")
    assert [h.id for h in env.services.recordings.holds(ivy)] == [mine.id]
    assert [h.id for h in env.services.recordings.holds(sam)] == [theirs.id, mine.id]
    with pytest.raises(NotFound, match=f"no active hold {theirs.id}"):
        env.services.recordings.release(ivy, theirs.id)
    assert len(env.services.recordings.holds(sam)) == 2


def test_a_hold_is_released_by_its_maker_or_a_supervisor(env: Env) -> None:
    ivy, sam, bob = _people(env)
    placed = env.services.recordings.hold(sam, "north", HOUR, "placed by the supervisor")
    for other in (ivy, bob):
        with pytest.raises(Forbidden, match="sam placed it"):
            env.services.recordings.release(other, placed.id)
    assert len(env.services.recordings.holds(sam)) == 1
    own = env.services.recordings.hold(ivy, "north", HOUR, "ivy's")
    with pytest.raises(Forbidden):
        env.services.recordings.release(bob, own.id)
    assert env.services.recordings.release(ivy, own.id).released_at is not None
    again = env.services.recordings.hold(ivy, "north", HOUR, "ivy's again")
    assert env.services.recordings.release(sam, again.id).released_at is not None
    assert [h.id for h in env.services.recordings.holds(sam)] == [placed.id]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), "at most 31 days"),
        (NOW + timedelta(days=2), NOW + timedelta(days=3), "past now"),
        (NOW - timedelta(days=40), NOW - timedelta(days=1), "at most 31 days"),
    ],
)
def test_a_hold_covers_a_bounded_range(
    env: Env, start: datetime, end: datetime, message: str
) -> None:
    ivy, _, _ = _people(env)
    with pytest.raises(InvalidInput, match=message):
        env.services.recordings.hold(ivy, "north", TimeRange(start, end), "for ever")
    assert _holds(env) == 0
    ahead = TimeRange(NOW - timedelta(hours=1), NOW + timedelta(hours=12))
    assert env.services.recordings.hold(ivy, "north", ahead, "incident going on").id
