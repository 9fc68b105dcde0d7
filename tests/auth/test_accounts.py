"""Users, roles, tokens, sessions and login throttling, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD, Env
from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.auth.roles import RequestContext, Role
from vigil.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from vigil.store.models import ApiToken, User


def _denied(env: Env, action: str) -> list[str]:
    with env.services.db.read() as session:
        entries = env.services.audit.entries(
            session, EntryFilter(action=action, outcome=Outcome.DENIED)
        )
    return [e.target for e in entries]


def _user_count(env: Env) -> int:
    with env.services.db.read() as session:
        return len(session.scalars(select(User)).all())


@pytest.mark.parametrize(
    "name",
    ["a/b", "..", "a\\b", "a\nb", "a\x00b", "", "Alice", "x" * 65, "local-operator", "-dash", "é"],
)
def test_bad_user_names_are_refused_audited_and_change_nothing(env: Env, name: str) -> None:
    before = _user_count(env)
    with pytest.raises(InvalidInput):
        env.services.users.create(env.local(), name, "viewer", PASSWORD)
    assert _user_count(env) == before
    assert len(_denied(env, "user.create")) == 1


@pytest.mark.parametrize(
    ("role", "password", "error"),
    [("king", PASSWORD, InvalidInput), ("viewer", "short", InvalidInput)],
)
def test_bad_roles_and_weak_passwords(env: Env, role: str, password: str, error: type) -> None:
    with pytest.raises(error):
        env.services.users.create(env.local(), "valid.name", role, password)
    assert _user_count(env) == 1


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaa",
        "password1234",
        "qwertyuiopas",
        "abcabcabcabc",
        "valid.namevalid.name",
        "x" * 20,
    ],
)
def test_long_but_guessable_passwords_are_refused(env: Env, password: str) -> None:
    with pytest.raises(InvalidInput, match="too easy to guess") as refused:
        env.services.users.create(env.local(), "valid.name", "supervisor", password)
    assert refused.value.fields["field"] == "password"
    assert _user_count(env) == 1
    # A few uncommon words pass.
    env.services.users.create(env.local(), "valid.name", "supervisor", "lantern quietly orbit 7")


def test_roles_decide_who_manages_accounts(env: Env) -> None:
    operator = env.add_user("olga", Role.OPERATOR)
    auditor = env.add_user("audrey", Role.AUDITOR)
    with pytest.raises(Forbidden):
        env.services.users.create(operator, "mallory", "admin", PASSWORD)
    assert _denied(env, "user.create") == ["user:mallory"]
    assert {u.name for u in env.services.users.list(auditor)} == {"admin", "olga", "audrey"}
    with pytest.raises(Forbidden):
        env.services.users.list(operator)
    assert env.services.users.show(operator, "olga").role == Role.OPERATOR
    with pytest.raises(Conflict):
        env.services.users.create(env.local(), "olga", "viewer", PASSWORD)


def test_the_last_admin_cannot_be_disabled(env: Env) -> None:
    with pytest.raises(Conflict, match="last active admin"):
        env.services.users.disable(env.local(), "admin")
    env.add_user("root2", Role.ADMIN)
    assert env.services.users.disable(env.local(), "admin").disabled


def test_tokens_are_hashed_expire_and_can_be_revoked(env: Env) -> None:
    ctx = env.add_user("scripts", Role.OPERATOR)
    info, secret = env.services.tokens.create(ctx, "scripts", expires_days=2, label="cron")
    assert env.services.tokens.authenticate(secret).name == "scripts"
    with env.services.db.read() as session:
        stored = session.get_one(ApiToken, info.id)
    assert secret.encode() not in stored.secret_hash
    assert len(stored.secret_hash) == 32
    with env.services.db.write() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == info.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(NotAuthenticated, match="expired"):
        env.services.tokens.authenticate(secret)
    info2, secret2 = env.services.tokens.create(ctx, "scripts")
    env.services.tokens.revoke(ctx, info2.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        env.services.tokens.authenticate(secret2)
    with pytest.raises(NotAuthenticated, match="unknown"):
        env.services.tokens.authenticate("vigil_" + "x" * 43)


def test_only_admins_manage_other_peoples_tokens(env: Env) -> None:
    alice = env.add_user("alice", Role.INVESTIGATOR)
    bob = env.add_user("bob", Role.INVESTIGATOR)
    info, _ = env.services.tokens.create(alice, "alice")
    with pytest.raises(Forbidden):
        env.services.tokens.revoke(bob, info.id)
    with pytest.raises(Forbidden):
        env.services.tokens.create(bob, "alice")
    # Non-admins learn nothing about ids that are not theirs, existing or not.
    with pytest.raises(Forbidden):
        env.services.tokens.revoke(bob, 999_999)
    with pytest.raises(NotFound):
        env.services.tokens.revoke(env.local(), 999_999)
    assert [t.id for t in env.services.tokens.list(alice)] == [info.id]
    assert _denied(env, "token.revoke") == ["token:999999", "token:999999", f"token:{info.id}"]


@pytest.mark.parametrize("role", [Role.INVESTIGATOR, Role.SUPERVISOR, Role.OPERATOR])
def test_nobody_makes_tokens_in_a_persons_name(env: Env, role: Role) -> None:
    """An admin (or the local operator) cannot act as an investigator, a supervisor or an
    operator: their tokens are theirs to make. Service accounts may be given one."""
    env.add_user("root2", Role.ADMIN)
    admin = env.acting("admin")
    env.add_user("person", role)
    for ctx in (admin, env.local()):
        with pytest.raises(Forbidden, match="only person may create tokens"):
            env.services.tokens.create(ctx, "person")
    with env.services.db.read() as session:
        assert session.scalars(select(ApiToken)).all() == []
    assert _denied(env, "token.create") == ["user:person", "user:person"]
    for service in ("root2", "wall"):
        if service == "wall":
            env.add_user("wall", Role.VIEWER)
        info, _ = env.services.tokens.create(admin, service, label="display wall")
        assert info.created_by == "admin"


def test_acts_with_a_token_are_audited_with_its_id_and_maker(env: Env) -> None:
    env.add_user("wall", Role.VIEWER)
    info, secret = env.services.tokens.create(env.acting("admin"), "wall")
    principal = env.services.tokens.authenticate(secret)
    assert (principal.token_id, principal.token_creator) == (info.id, "admin")
    ctx = RequestContext(principal, "req-wall", "test")
    env.services.cameras.list(ctx)
    with env.services.db.read() as session:
        entries = env.services.audit.entries(session, EntryFilter(action="camera.list"))
    assert [(e.actor, json.loads(e.details_json)["via_token"]) for e in entries] == [
        ("wall", {"id": info.id, "created_by": "admin"})
    ]


@pytest.mark.parametrize("days", [0, -1, 10_000])
def test_token_expiry_is_bounded(env: Env, days: int) -> None:
    with pytest.raises(InvalidInput, match="expiry"):
        env.services.tokens.create(env.local(), "admin", expires_days=days)


def test_disabling_a_user_ends_tokens_and_sessions(env: Env) -> None:
    ctx = env.add_user("leaver", Role.VIEWER)
    _, secret = env.services.tokens.create(ctx, "leaver")
    session = env.services.sessions.start(ctx)
    env.services.users.disable(env.local(), "leaver")
    with pytest.raises(NotAuthenticated):
        env.services.tokens.authenticate(secret)
    with pytest.raises(NotAuthenticated):
        env.services.sessions.resolve(session.secret)
    with pytest.raises(NotAuthenticated):
        env.services.login.login("leaver", PASSWORD, client="c", request_id="r")


def test_logins_are_throttled_and_every_attempt_audited(env: Env) -> None:
    env.add_user("victim", Role.VIEWER)
    login = env.services.login.login
    for _ in range(3):
        with pytest.raises(NotAuthenticated, match="invalid user name or password"):
            login("victim", "wrong password!", client="10.0.0.9", request_id="r")
    with pytest.raises(TooManyAttempts) as caught:
        login("victim", PASSWORD, client="10.0.0.9", request_id="r")
    assert 0 < caught.value.retry_after_s <= 900
    assert _denied(env, "auth.login").count("user:victim") == 4
    with pytest.raises(NotAuthenticated):
        login("nobody-here", "whatever pass", client="10.0.0.9", request_id="r")


def test_parallel_wrong_logins_make_no_more_password_checks_than_the_limit(env: Env) -> None:
    env.add_user("victim", Role.VIEWER)
    checks: list[int] = []
    passwords = env.services.login.passwords
    real_verify = passwords.verify

    def counted(stored: str | None, password: str) -> bool:
        checks.append(1)
        return real_verify(stored, password)

    passwords.verify = counted  # type: ignore[method-assign]

    def attempt(n: int) -> str:
        try:
            env.services.login.login(
                "victim", "wrong password!", client=f"10.0.0.{n}", request_id="r"
            )
        except TooManyAttempts:
            return "throttled"
        except NotAuthenticated:
            return "checked"
        return "signed in"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(attempt, range(60)))
    limit = env.services.login.config.login_max_failures
    assert len(checks) == outcomes.count("checked") == limit
    assert outcomes.count("throttled") == 60 - limit


def test_guessing_from_elsewhere_cannot_lock_a_person_out(env: Env) -> None:
    env.add_user("boss", Role.ADMIN)
    login = env.services.login.login
    assert login("boss", PASSWORD, client="10.1.1.1", request_id="r").name == "boss"  # her desk
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            login("boss", "guess guess guess", client="6.6.6.6", request_id="r")
    with pytest.raises(TooManyAttempts):  # the guesser is stopped...
        login("boss", "guess guess guess", client="6.6.6.6", request_id="r")
    with pytest.raises(TooManyAttempts):  # ... and so is any client new to her name...
        login("boss", PASSWORD, client="7.7.7.7", request_id="r")
    # ... but not the one she signs in from.
    assert login("boss", PASSWORD, client="10.1.1.1", request_id="r").name == "boss"
    for _ in range(3):  # which has an allowance of its own
        with pytest.raises(NotAuthenticated):
            login("boss", "typo typo typo", client="10.1.1.1", request_id="r")
    with pytest.raises(TooManyAttempts):
        login("boss", PASSWORD, client="10.1.1.1", request_id="r")


def test_a_good_login_clears_earlier_failures(env: Env) -> None:
    env.add_user("typo", Role.VIEWER)
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            env.services.login.login("typo", "not the password", client="c", request_id="r")
    assert env.services.login.login("typo", PASSWORD, client="c", request_id="r").name == "typo"
    for _ in range(2):
        with pytest.raises(NotAuthenticated):
            env.services.login.login("typo", "not the password", client="c", request_id="r")
    assert env.services.login.login("typo", PASSWORD, client="c", request_id="r").name == "typo"


def test_sessions_check_csrf_and_end(env: Env) -> None:
    ctx = env.add_user("web", Role.OPERATOR)
    new = env.services.sessions.start(ctx)
    active = env.services.sessions.resolve(new.secret)
    assert active.principal.name == "web"
    active.check_csrf(new.csrf_token)
    for wrong in (None, "", "vigil-csrf_wrong", new.secret):
        with pytest.raises(Forbidden):
            active.check_csrf(wrong)
    env.services.sessions.end(ctx, active.id)
    with pytest.raises(NotAuthenticated, match="ended"):
        env.services.sessions.resolve(new.secret)
