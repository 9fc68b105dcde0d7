"""Every way of tampering with the stored log is caught by ``vigil audit verify``."""

from __future__ import annotations

import pytest

from tests.audit.tamper import TAMPERINGS, tamper
from tests.cli_runner import vigil
from tests.conftest import Env
from vigil.auth.roles import Role

TARGET = 5


def _populate(env: Env) -> None:
    """A small, realistic log: one transaction (and so one signed head) per action."""
    for n, role in enumerate((Role.OPERATOR, Role.AUDITOR, Role.SUPERVISOR, Role.VIEWER)):
        ctx = env.add_user(f"user{n}", role)
        env.services.users.show(ctx, f"user{n}")


def test_an_untouched_log_verifies(env: Env) -> None:
    _populate(env)
    result = vigil(env.data_dir, "audit", "verify", "--json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["ok"] is True
    assert report["first_bad_entry"] is None
    assert report["entries"] >= 10


@pytest.mark.parametrize("how", TAMPERINGS)
def test_tampering_is_caught_and_the_first_bad_entry_named(env: Env, how: str) -> None:
    """The same log verifies untouched (test_an_untouched_log_verifies); each tampering of
    it fails verification, naming the entry."""
    _populate(env)
    tamper(env.services.db, how, TARGET)
    result = vigil(env.data_dir, "audit", "verify", "--json")
    assert result.code == 10, (how, result.stdout, result.stderr)
    report = result.json()
    assert report["ok"] is False
    assert report["first_bad_entry"] == TARGET, report["problems"]


def test_a_person_is_told_which_entry_is_bad(env: Env) -> None:
    _populate(env)
    tamper(env.services.db, TAMPERINGS[0], TARGET)
    human = vigil(env.data_dir, "audit", "verify")
    assert human.code == 10
    assert f"at entry {TARGET}" in human.stderr


def test_a_forged_head_is_caught(env: Env) -> None:
    _populate(env)
    with env.services.db.engine.begin() as conn:
        from tests.audit.tamper import drop_guards  # noqa: PLC0415 - attacker's tool

        drop_guards(conn)
        conn.exec_driver_sql("UPDATE audit_heads SET size = size + 1 WHERE id = 3")
    result = vigil(env.data_dir, "audit", "verify", "--json")
    assert result.code == 10
    assert any("signature" in p for p in result.json()["problems"])
