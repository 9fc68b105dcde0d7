"""The ``vigil`` command as people use it: init, users, tokens, audit, errors and --json."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.cli_runner import vigil
from tests.conftest import PASSWORD


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    password_file = tmp_path / "admin.pw"
    password_file.write_text(PASSWORD + "\n")
    result = vigil(tmp_path / "data", "init", "--admin-password-file", str(password_file), "--json")
    assert result.code == 0, result.stderr
    return tmp_path / "data"


def test_init_creates_private_files_and_never_overwrites(data_dir: Path) -> None:
    key = data_dir / "audit-signing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "vigil.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    before = {p.name: p.read_bytes() for p in (key, data_dir / "vigil.toml")}
    again = vigil(data_dir, "init", "--json")
    assert again.code == 0
    report = again.json()
    assert [report[k] for k in ("created_config", "created_key", "created_admin")] == [False] * 3
    assert report["admin_password"] is None
    assert {p.name: p.read_bytes() for p in (key, data_dir / "vigil.toml")} == before
    login = vigil(
        data_dir, "--user", "admin", "--password-file", "-", "user", "list", stdin=PASSWORD
    )
    assert login.code == 0, login.stderr


def test_init_makes_an_existing_directory_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "media" / "1").mkdir(parents=True, mode=0o755)
    data.chmod(0o755)
    (data / "media" / "1" / "old.mp4").write_bytes(b"footage")
    (data / "media" / "1" / "old.mp4").chmod(0o644)
    (data / "notes.txt").write_text("left here by someone")
    (data / "notes.txt").chmod(0o666)
    password_file = tmp_path / "admin.pw"
    password_file.write_text(PASSWORD + "\n")
    made = vigil(data, "init", "--admin-password-file", str(password_file))
    assert made.code == 0, made.stderr
    modes = {
        str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in [data, *data.rglob("*")]
    }
    assert modes["vigil.db"] == modes["media/1/old.mp4"] == modes["notes.txt"] == 0o600
    assert modes["."] == modes["media"] == modes["media/1"] == 0o700
    assert {p: oct(m) for p, m in modes.items() if m not in (0o600, 0o700)} == {}


def test_init_without_a_password_file_prints_a_generated_one_once(tmp_path: Path) -> None:
    first = vigil(tmp_path / "d", "init")
    assert first.code == 0
    assert "admin password (shown once):" in first.stdout
    password = first.stdout.split("admin password (shown once):")[1].split()[0]
    assert len(password) >= 20
    second = vigil(tmp_path / "d", "init")
    assert "admin password" not in second.stdout
    assert "already set up" in second.stdout


def test_people_authenticate_and_roles_apply(data_dir: Path, tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD)
    assert (
        vigil(
            data_dir, "user", "add", "olga", "--role", "operator", "--password-file", str(pw)
        ).code
        == 0
    )
    assert (
        vigil(
            data_dir, "user", "add", "audrey", "--role", "auditor", "--password-file", str(pw)
        ).code
        == 0
    )
    as_olga = ("--user", "olga", "--password-file", str(pw))
    refused = vigil(data_dir, *as_olga, "audit", "list")
    assert refused.code == 6
    assert "may not audit.list" in refused.stderr
    wrong = tmp_path / "wrong"
    wrong.write_text("definitely not it")
    bad_login = vigil(data_dir, "--user", "olga", "--password-file", str(wrong), "user", "list")
    assert bad_login.code == 5
    listed = vigil(
        data_dir, "--user", "audrey", "--password-file", str(pw), "audit", "list", "--json"
    )
    assert listed.code == 0
    actions = [(e["actor"], e["action"], e["outcome"]) for e in listed.json()]
    assert ("olga", "audit.list", "denied") in actions
    assert ("anonymous", "auth.login", "denied") in actions


def test_tokens_act_for_their_user_until_revoked(data_dir: Path) -> None:
    created = vigil(data_dir, "token", "create", "--user", "admin", "--expires-days", "1", "--json")
    assert created.code == 0
    token = created.json()
    as_token = {"VIGIL_TOKEN": token["token"]}
    listed = vigil(data_dir, "audit", "list", "--limit", "1", "--json", env=as_token)
    assert listed.code == 0
    assert listed.json()[0]["action"] == "token.create"
    assert vigil(data_dir, "token", "revoke", str(token["id"])).code == 0
    revoked = vigil(data_dir, "user", "list", "--json", env=as_token)
    assert revoked.code == 5
    assert json.loads(revoked.stdout)["error"]["code"] == "not_authenticated"


def test_proofs_check_offline_with_the_public_key_alone(data_dir: Path, tmp_path: Path) -> None:
    head = vigil(data_dir, "audit", "head", "--json").json()
    proof = vigil(data_dir, "audit", "prove", "1", "--json")
    assert proof.code == 0
    (tmp_path / "proof.json").write_text(proof.stdout)
    newer = vigil(data_dir, "audit", "head", "--json").json()
    consistency = vigil(
        data_dir, "audit", "consistency", str(head["size"]), str(newer["size"]), "--json"
    )
    assert consistency.code == 0, consistency.stderr
    (tmp_path / "consistency.json").write_text(consistency.stdout)
    public = tmp_path / "published.pem"
    public.write_bytes((data_dir / "audit-signing-key.pub.pem").read_bytes())
    elsewhere = tmp_path / "no-vigil-here"
    for name in ("proof.json", "consistency.json"):
        checked = vigil(
            elsewhere, "audit", "check-proof", str(tmp_path / name), "--public-key", str(public)
        )
        assert checked.code == 0, checked.stderr
        assert "proof OK" in checked.stdout
    doc = json.loads(proof.stdout)
    doc["entry"]["actor"] = "someone else"
    doc["entry_bytes"] = doc["entry_bytes"][:-4] + "AAAA"
    (tmp_path / "forged.json").write_text(json.dumps(doc))
    forged = vigil(
        elsewhere,
        "audit",
        "check-proof",
        str(tmp_path / "forged.json"),
        "--public-key",
        str(public),
    )
    assert forged.code == 11


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("user", "add", "a/b", "--role", "viewer"), 2, "is not allowed"),
        (("user", "add", "eve", "--role", "emperor"), 2, "unknown role"),
        (("token", "revoke", "424242"), 3, "no API token"),
        (("audit", "consistency", "5", "2"), 2, "larger than"),
        (
            ("audit", "check-proof", "/nonexistent.json", "--public-key", "/nonexistent.pem"),
            2,
            "cannot read",
        ),
    ],
)
def test_errors_are_clear_messages_with_exit_codes(
    data_dir: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    result = vigil(data_dir, *args)
    assert result.code == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    as_json = vigil(data_dir, *args, "--json")
    assert as_json.code == code
    assert message in json.loads(as_json.stdout)["error"]["message"]


def test_commands_need_an_initialised_data_dir(tmp_path: Path) -> None:
    result = vigil(tmp_path / "missing", "user", "list")
    assert result.code == 8
    assert "vigil init" in result.stderr


def test_camera_registry_from_the_command_line(data_dir: Path) -> None:
    url = "rtsp://cam-user:TopSecret99@192.0.2.7:554/live"
    added = vigil(data_dir, "camera", "add", "dock-3", "--url", url, "--site", "harbour", "--json")
    assert added.code == 0, added.stderr
    shown = vigil(data_dir, "camera", "show", "dock-3", "--json")
    assert shown.json()["url"] == "rtsp://192.0.2.7:554/live"
    assert shown.json()["username"] == "cam-user"
    listed = vigil(data_dir, "camera", "list")
    assert "dock-3" in listed.stdout
    assert "TopSecret99" not in added.stdout + shown.stdout + listed.stdout
    assert vigil(data_dir, "camera", "remove", "dock-3").code == 0
    missing = vigil(data_dir, "camera", "show", "dock-3")
    assert missing.code == 3
    assert "no camera named 'dock-3'" in missing.stderr


def test_an_unexpected_error_is_one_line_and_its_trace_is_kept(data_dir: Path) -> None:
    database = next(data_dir.glob("*.db"))
    database.write_bytes(b"this is not a database" * 200)  # a disk or a person broke it
    plain = vigil(data_dir, "status")
    assert plain.code == 70
    assert "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1, plain.stderr
    assert "unexpected" in plain.stderr
    assert "vigil.log" in plain.stderr
    assert "Traceback (most recent call last)" in (data_dir / "vigil.log").read_text()
    debug = vigil(data_dir, "--debug", "status")
    assert debug.code == 70
    assert "Traceback (most recent call last)" in debug.stderr
