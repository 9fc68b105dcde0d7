"""``vigil publication`` from the command line: an admin proposes, a supervisor approves,
either withdraws; the public list follows."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, make_env
from tests.recorded import add_camera
from vigil.auth.roles import Role


def test_propose_approve_withdraw(tmp_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    add_camera(env, "square")
    env.add_user("ada", Role.ADMIN)
    env.add_user("sam", Role.SUPERVISOR, groups=("city",))
    env.services.close()
    (tmp_path / "pw").write_text(PASSWORD)

    def run(user: str, *args: str) -> tuple[int, str, str]:
        login = ("--user", user, "--password-file", str(tmp_path / "pw"))
        result = vigil(env.data_dir, *login, "publication", *args)
        return result.code, result.stdout, result.stderr

    code, out, err = run("ada", "propose", "square", "--reason", "the market", "--json")
    assert code == 0, err
    assert '"status": "awaiting approval"' in out
    code, _, err = run("ada", "approve", "1")
    assert code == 6  # the proposer (an admin) cannot approve
    assert "publishing.approve" in err
    code, out, err = run("sam", "approve", "1")
    assert (code, out.strip()) == (0, "square is public"), err
    code, out, _ = run("sam", "withdraw", "1")
    assert (code, out.strip()) == (0, "square is no longer public")
    code, out, _ = run("ada", "list", "--json")
    assert code == 0
    assert '"withdrawn_by": "sam"' in out
