"""Times from outside are one bounded type everywhere (issue 28, items 5 and 9): valid but
extreme dates, bare numbers and booleans are refused with a 422 (exit 2 on the command
line), never a 500 or an "unexpected" error, and refused requests change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import Api
from tests.cli_runner import vigil
from tests.conftest import SQLITE_ONLY
from tests.recorded import add_camera

LATE = "9999-12-31T23:00:00-05:00"  # year 10000 in UTC
EARLY = "0001-01-01T00:00:00+05:00"  # year 0 in UTC


def _world(api: Api) -> None:
    add_camera(api.env, "gate", group="north")
    api.env.services.groups.grant(api.env.local(), "north", "admin")
    admin = api.env.acting("admin")
    api.env.services.partners.register(admin, "insurer", "Insurer Ltd", "claims")


def _key(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "cameras": ["gate"],
        "valid_from": now.isoformat(),
        "valid_until": (now + timedelta(days=1)).isoformat(),
        "quota_s": 60,
        **changes,
    }


@SQLITE_ONLY
def test_extreme_dates_numbers_and_booleans_are_422s(api: Api) -> None:
    _world(api)
    post, get, auth = api.client.post, api.client.get, api.bearer()
    now = datetime.now(UTC).isoformat()
    answers = {}
    for moment in (LATE, EARLY):
        answers[f"event {moment}"] = post("/api/v1/events", headers=auth, json={
            "name": "fair", "group": "north", "start": moment, "end": LATE,
        })  # fmt: skip
        answers[f"key {moment}"] = post(
            "/api/v1/organisations/insurer/keys", headers=auth, json=_key(valid_from=moment)
        )
        answers[f"zone {moment}"] = post("/api/v1/no-identification", headers=auth, json={
            "reason": "clinic", "group": "north", "start": moment,
        })  # fmt: skip
        answers[f"transparency {moment}"] = get(
            "/api/v1/audit/transparency", headers=auth, params={"start": moment, "end": now}
        )
        answers[f"recording {moment}"] = get(
            "/api/v1/cameras/gate/recordings", headers=auth, params={"start": moment, "end": now}
        )
    for month in ("9999-12", "0000-01"):
        answers[f"usage {month}"] = get(
            "/api/v1/organisations/insurer/usage", headers=auth, params={"month": month}
        )
    answers["true as a quota"] = post(
        "/api/v1/organisations/insurer/keys", headers=auth, json=_key(quota_s=True)
    )
    answers["a number as a time"] = post(
        "/api/v1/organisations/insurer/keys", headers=auth, json=_key(valid_from=1_700_000_000)
    )
    answers["a zone with an event and a start"] = post("/api/v1/no-identification", headers=auth,
        json={"reason": "fair", "event": "fair", "group": "north", "start": now})  # fmt: skip
    assert {what: a.status_code for what, a in answers.items()} == dict.fromkeys(answers, 422)
    assert "1970 to 2199" in answers[f"key {LATE}"].text
    assert "month" in answers["usage 9999-12"].text
    # Nothing was made.
    assert get("/api/v1/events", headers=auth).json() == []
    assert get("/api/v1/no-identification", headers=auth).json() == []
    assert get("/api/v1/organisations", headers=auth).json()[0]["keys"] == []


@SQLITE_ONLY
def test_the_command_line_takes_the_same_times(api: Api) -> None:
    _world(api)
    for moment in (LATE, EARLY, "2026-12-01T10:00:00"):
        said = vigil(api.env.data_dir, "camera", "export", "gate", "--from", moment, "--to",
                     LATE, "--out", "x.mp4")  # fmt: skip
        assert said.code == 2, said.stderr
        assert "unexpected" not in said.stderr
        assert "time zone" in said.stderr or "1970 to 2199" in said.stderr
