"""``vigil watchlist`` and ``vigil alerts`` from the command line, as the people they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, make_env
from vigil.auth.roles import Role


def test_propose_approve_list_and_refusals(tmp_path: Path, portrait_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    env.add_user("ivy", Role.INVESTIGATOR)
    env.add_user("sue", Role.SUPERVISOR)
    env.add_user("olga", Role.OPERATOR)
    env.services.close()
    (tmp_path / "pw").write_text(PASSWORD)
    data = env.data_dir

    def as_(user: str, *args: str) -> list[str]:
        return ["--user", user, "--password-file", str(tmp_path / "pw"), *args]

    proposed = vigil(
        data,
        *as_("ivy", "watchlist", "add", "suspect B", "--photo", str(portrait_path)),
        *("--basis", "warrant", "--reference", "W-7", "--expires", "2099-01-01T00:00:00Z"),
    )
    assert proposed.code == 2  # more than 365 days ahead
    assert "within 365 days" in proposed.stderr
    expires = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    proposed = vigil(
        data,
        *as_("ivy", "watchlist", "add", "suspect B", "--photo", str(portrait_path)),
        *("--basis", "warrant", "--reference", "W-7", "--expires", expires, "--json"),
    )
    assert proposed.code == 0, proposed.stderr
    entry = str(proposed.json()["id"])
    assert proposed.json()["status"] == "awaiting approval"
    assert vigil(data, *as_("olga", "watchlist", "approve", entry)).code == 6
    assert vigil(data, *as_("sue", "watchlist", "approve", entry)).code == 0
    (listed,) = vigil(data, *as_("olga", "watchlist", "list", "--json")).json()
    assert (listed["status"], listed["approved_by"]) == ("active", "sue")
    alerts = vigil(data, *as_("olga", "alerts", "list", "--json")).json()
    assert alerts == {"alerts": [], "rejected_total": 0}
    missing = vigil(data, *as_("olga", "alerts", "confirm", "99"))
    assert missing.code == 3
    assert vigil(data, *as_("ivy", "watchlist", "expire", entry)).code == 0
    (listed,) = vigil(data, *as_("olga", "watchlist", "list", "--json")).json()
    assert listed["status"] == "ended"
