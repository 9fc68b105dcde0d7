"""``vigil subject`` as a data-protection officer and an approver use it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, make_env
from tests.investigations.world import NOON, her_sightings, mirrored, strangers, world
from vigil.auth.roles import Role


def test_request_approve_and_write_the_answer(tmp_path: Path, portrait_path: Path) -> None:
    env = make_env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'vigil.db'}")
    w = world(env)
    hers = her_sightings(w, portrait_path, "hall", NOON, n=2)
    strangers(w, "hall", NOON, 4)
    env.add_user("dana", Role.DPO)
    env.services.close()
    (tmp_path / "pw").write_text(PASSWORD)
    (tmp_path / "mine.jpg").write_bytes(mirrored(portrait_path))  # not the stored photo
    data = env.data_dir

    def as_(user: str, *args: str) -> list[str]:
        return ["--user", user, "--password-file", str(tmp_path / "pw"), *args]

    photo = ("--photo", str(tmp_path / "mine.jpg"))
    unchecked = vigil(data, *as_("dana", "subject", "request", *photo, "--reference", "R1"))
    assert unchecked.code == 2  # no --identity-checked-by: refused by the command line
    refused = vigil(
        data,
        *as_("ivy", "subject", "request", *photo, "--reference", "R1"),
        *("--identity-checked-by", "ivy", "--json"),
    )
    assert refused.code == 6  # an investigator takes no subject requests
    taken = vigil(
        data,
        *as_("dana", "subject", "request", *photo, "--reference", "R1"),
        *("--identity-checked-by", "dana: passport", "--json"),
    )
    assert taken.code == 0, taken.stderr
    number = str(taken.json()["id"])
    assert vigil(data, *as_("dana", "subject", "approve", number)).code == 6  # her own
    approved = vigil(data, *as_("sue", "subject", "approve", number, "--json"))
    assert approved.code == 0, approved.stderr
    assert approved.json()["sightings_found"] == 2
    assert approved.json()["sightings_searched"] == 6
    assert vigil(data, *as_("sue", "subject", "answer", number, "--out", "x")).code == 6
    early = vigil(data, *as_("dana", "subject", "answer", number, "--out", "x"))
    assert early.code == 4  # what was found awaits her review
    found = vigil(data, *as_("dana", "subject", "found", number, "--json")).json()
    assert sorted(f["sighting"] for f in found) == hers
    ids = ",".join(str(f["sighting"]) for f in found)
    reviewed = vigil(data, *as_("dana", "subject", "review", number, "--confirm", ids))
    assert reviewed.code == 0, reviewed.stderr
    assert "2 confirmed, 0 rejected" in reviewed.stdout
    out = tmp_path / "answer.json"
    written = vigil(
        data, *as_("dana", "subject", "answer", number, "--format", "json", "--out", str(out))
    )
    assert written.code == 0, written.stderr
    assert sorted(s["sighting"] for s in json.loads(out.read_text())["sightings"]) == hers
    listed = vigil(data, *as_("sue", "subject", "list", "--json")).json()
    assert [(r["id"], r["state"]) for r in listed] == [(int(number), "answered")]
    assert "sightings" not in listed[0]  # records only
    assert vigil(data, *as_("sue", "subject", "erase", number)).code == 6  # approvers: no
    erased = vigil(data, *as_("dana", "subject", "erase", number, "--json"))
    assert erased.code == 0, erased.stderr
    assert sorted(erased.json()["erased"]) == hers
    assert erased.json()["kept"] == []
    assert vigil(data, "audit", "verify").code == 0
