"""``vigil case``, ``vigil search``, ``vigil report`` and ``vigil notices`` as their users."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, make_env
from tests.investigations.world import NOON, her_sightings, spec, strangers, world


def test_open_approve_search_confirm_report(tmp_path: Path, portrait_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    w = world(env)
    seen = her_sightings(w, portrait_path, "hall", NOON, n=2)
    strangers(w, "hall", NOON, 4)
    env.services.close()
    (tmp_path / "pw").write_text(PASSWORD)
    data = env.data_dir
    case = spec(["hall"])

    def as_(user: str, *args: str) -> list[str]:
        return ["--user", user, "--password-file", str(tmp_path / "pw"), *args]

    probe = ("--photo", str(portrait_path))
    assert vigil(data, *as_("ivy", "search", *probe)).code == 2  # no --case: refused
    opened = vigil(
        data,
        *as_("ivy", "case", "open", "--subject", case.subject, "--basis", case.legal_basis),
        *("--reference", case.reference, "--purpose", case.purpose, "--cameras", "hall"),
        *("--from", case.start.isoformat(), "--to", case.end.isoformat()),
        *("--expires", case.expires.isoformat(), "--json"),
    )
    assert opened.code == 0, opened.stderr
    number = str(opened.json()["id"])
    early = vigil(data, *as_("ivy", "search", "--case", number, *probe, "--json"))
    assert early.code == 6
    assert early.json()["error"]["code"] == "forbidden"
    assert vigil(data, *as_("ivy", "case", "approve", number)).code == 6
    assert vigil(data, *as_("sue", "case", "approve", number)).code == 0

    found = vigil(data, *as_("ivy", "search", "--case", number, *probe, "--limit", "3", "--json"))
    assert found.code == 0, found.stderr
    results = found.json()["results"]
    assert sorted(r["sighting_id"] for r in results) == seen
    assert {"sighting_id", "camera", "start", "end", "similarity"} <= set(results[0])

    ids = [str(r["sighting_id"]) for r in results]
    assert vigil(data, *as_("ivy", "case", "confirm", number, *ids)).code == 0
    out = tmp_path / "report.html"
    written = vigil(data, *as_("ivy", "report", "--case", number, "--out", str(out)))
    assert written.code == 0, written.stderr
    assert "Movement report, case" in out.read_text()
    shown = vigil(data, *as_("ivy", "case", "show", number, "--json")).json()
    assert [r["confirmed_by"] for r in shown["results"]] == ["ivy", "ivy"]
    notices = vigil(data, *as_("sue", "notices", "--json")).json()
    assert [n["kind"] for n in notices] in ([], ["after_hours"])  # depends on the hour
    assert vigil(data, *as_("ivy", "notices")).code == 6
    assert vigil(data, *as_("ivy", "case", "close", number)).code == 0
    closed = vigil(data, *as_("ivy", "search", "--case", number, *probe))
    assert closed.code == 6
    assert "closed" in closed.stderr
