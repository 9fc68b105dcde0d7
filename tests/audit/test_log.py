"""The audit log on SQLite and PostgreSQL: appends, heads, proofs, concurrency, append-only."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import Env
from vigil.audit.entry import Outcome, encode_text
from vigil.audit.log import AuditLog, EntryFilter, Record
from vigil.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from vigil.audit.proofs import check_proof
from vigil.audit.signing import verify_head
from vigil.audit.verify import verify_log
from vigil.auth.roles import Role
from vigil.errors import NotFound, ProofError


def _append(env: Env, count: int, prefix: str = "test") -> list[int]:
    seqs: list[int] = []
    for i in range(count):
        with env.services.db.write() as session:
            seqs.append(
                env.services.audit.append(
                    session,
                    Record(actor="tester", action=f"{prefix}.{i}", target="t", request_id="r"),
                )
            )
    return seqs


def _verify(env: Env) -> dict[str, object]:
    with env.services.db.engine.connect() as conn:
        return verify_log(conn, env.services.audit.key.public_key).to_dict()


def test_positions_are_gap_free_and_the_log_verifies(env: Env) -> None:
    with env.services.db.read() as session:
        start = env.services.audit.size(session)
    seqs = _append(env, 25)
    assert seqs == list(range(start, start + 25))
    report = _verify(env)
    assert report["ok"], report["problems"]
    assert report["entries"] == start + 25
    assert report["covered_by_signed_head"] == start + 25


def test_hostile_strings_are_encoded_not_interpreted(env: Env) -> None:
    hostile = "bob\n2026-01-01 admin login ok\x1b[2J\u202e"
    with env.services.db.write() as session:
        seq = env.services.audit.append(
            session,
            Record(
                actor=hostile, action="x", target=hostile, request_id="r", details={"q": hostile}
            ),
        )
    with env.services.db.read() as session:
        entry = env.services.audit.entry(session, seq)
    assert "\n" not in entry.actor
    assert "\x1b" not in entry.target
    assert "\u202e" not in entry.actor
    assert entry.actor.startswith("bob\\u000a2026")
    assert entry.details == {"q": hostile}
    assert "\n" not in entry.details_json
    assert "\x1b" not in entry.details_json


def test_concurrent_appenders_get_distinct_consecutive_positions(env: Env) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            _append(env, 15, prefix=f"w{n}")
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = _verify(env)
    assert report["ok"], report["problems"]
    with env.services.db.read() as session:
        actions = [e.action for e in env.services.audit.entries(session, EntryFilter(limit=1000))]
    assert sum(a.startswith("w") for a in actions) == 60


def test_inclusion_and_consistency_proofs_verify_with_the_public_key(env: Env) -> None:
    _append(env, 6)
    auditor = env.add_user("audrey", Role.AUDITOR)
    service = env.services.audit_service
    old = service.head(auditor)
    _append(env, 9)
    new = service.head(auditor)
    key = env.services.audit.key.public_key
    verify_head(new, key)
    for seq in (0, old.size - 1, new.size - 1):
        proof = service.inclusion(auditor, seq, new.size)
        verify_inclusion(
            seq, new.size, leaf_hash(proof.entry.canonical_bytes()), proof.path, new.root
        )
        assert "is in the signed log" in check_proof(proof.to_dict(), key)
    consistency = service.consistency(auditor, old.size, new.size)
    verify_consistency(old.size, new.size, old.root, new.root, consistency.path)
    assert "extends" in check_proof(consistency.to_dict(), key)


def test_a_doctored_proof_is_refused(env: Env) -> None:
    auditor = env.add_user("audrey", Role.AUDITOR)
    _append(env, 5)
    doc = env.services.audit_service.inclusion(auditor, 2, None).to_dict()
    doc["index"] = 3
    with pytest.raises(ProofError):
        check_proof(doc, env.services.audit.key.public_key)
    with pytest.raises(NotFound):
        env.services.audit_service.consistency(auditor, 1, 10_000)


def test_filters_select_entries(env: Env) -> None:
    auditor = env.add_user("audrey", Role.AUDITOR)
    _append(env, 3, prefix="alpha")
    entries = env.services.audit_service.entries(auditor, EntryFilter(action="alpha.1"))
    assert [e.action for e in entries] == ["alpha.1"]
    denied = env.services.audit_service.entries(auditor, EntryFilter(outcome=Outcome.DENIED))
    assert all(e.outcome == Outcome.DENIED for e in denied)
    listed = env.services.audit_service.entries(auditor, EntryFilter(actor="audrey"))
    assert listed
    assert all(e.actor == "audrey" for e in listed)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET target = 'x' WHERE seq = 0",
        "DELETE FROM audit_entries WHERE seq = 0",
        "DELETE FROM audit_heads",
    ],
)
def test_the_database_refuses_to_rewrite_the_log(env: Env, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), env.services.db.write() as session:
        session.execute(text(statement))
    assert _verify(env)["ok"]


def test_a_clock_stepping_back_keeps_the_log_valid(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(env.services.audit.key, head_interval_s=1.0)
    record = Record(actor="tester", action="tick", target="t", request_id="r")
    base = 2_000_000_000_000_000
    for clock in (base, base + 500_000):  # a head at the first, none at the second (< 1 s)
        monkeypatch.setattr("vigil.audit.log.now_us", lambda clock=clock: clock)
        with env.services.db.write() as session:
            log.append(session, record)
    monkeypatch.setattr("vigil.audit.log.now_us", lambda: 1_000_000)  # back to 1970
    with env.services.db.write() as session:
        log.append(session, record)
        head = log.sign_head(session)
    assert head.time_us >= base + 500_000  # never older than the entries it covers
    report = _verify(env)
    assert report["ok"], report["problems"]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("plain name", "plain name"),
        ("über-straße", "über-straße"),
        ("a\\b", "a\\\\b"),
        ("line\nbreak", "line\\u000abreak"),
        ("tab\there", "tab\\u0009here"),
        ("nbsp\u00a0x", "nbsp\\u00a0x"),
        ("rtl\u202eevil", "rtl\\u202eevil"),
        ("x" * 600, "x" * 512 + "...[88 more chars]"),
    ],
)
def test_fields_are_encoded_so_they_cannot_forge_structure(value: str, stored: str) -> None:
    assert encode_text(value) == stored
