"""The permission matrix: every API operation and web page, for every role, inside and
outside the camera's group and the case, against the written table of who may do what
(``vigil.api.permissions``, whose rendering is ``docs/permissions.md``).

Each person signs in (a browser session, CSRF token included) and calls every operation on
things that exist: camera ``gate`` of group ``ga`` with recordings, an alert on it, an
approved case with results, watchlist entries, holds. A cell is *allowed* when the answer is
neither 403 nor 404 (the table's scope hides what is outside it as not found) and *denied*
when it is one of those; no cell may answer 5xx.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.conftest import PASSWORD, Env
from tests.investigations.world import hopper
from tests.recorded import add_camera, clip, record
from tests.sightings import matching_alert, store_sightings_at
from vigil.api.app import DESCRIBED, create_api
from vigil.api.permissions import PARTNER, PUBLIC, RULES, Rule, Scope, render_markdown
from vigil.auth.roles import ROLE_PERMISSIONS, Permission, RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.crowds.events import EventSpec
from vigil.investigations.cases import CaseSpec
from vigil.partners.organisations import KeySpec
from vigil.recording.service import TimeRange
from vigil.store.models import SightingRow
from vigil.web import pages

DOC = Path(__file__).parents[2] / "docs" / "permissions.md"
NOW = datetime.now(UTC)
SEEN = NOW - timedelta(hours=2)
LAST_MONTH = f"{NOW.replace(day=1) - timedelta(days=1):%Y-%m}"


@dataclass(frozen=True)
class Person:
    name: str
    role: Role
    in_group: bool
    member: bool  # of the case (only investigators can be)


PEOPLE = [
    Person(f"{role}-{where}", role, where != "out", where == "member")
    for role in Role
    for where in (("out", "in", "member") if role == Role.INVESTIGATOR else ("out", "in"))
]


@dataclass
class World:
    env: Env
    portrait: bytes
    ids: dict[str, int] = field(default_factory=dict)

    def ctx(self, name: str) -> RequestContext:
        return self.env.acting(name)


def _build(env: Env, portrait_path: Path) -> World:
    w = World(env, portrait_path.read_bytes())
    s = env.services
    gate = add_camera(env, "gate", group="ga")
    add_camera(env, "spare", group="ga")
    record(env, gate, NOW.timestamp() - 120, 6)  # inside SPAN, however late the test runs
    init, fragments = clip()  # and live now
    s.live.begin(gate, init)
    for i, fragment in enumerate(fragments):
        s.live.publish(gate, fragment, time.time() + i)
    for person in PEOPLE:
        env.add_user(person.name, person.role, groups=("ga",) if person.in_group else ())
    for extra, role in (("victim", Role.VIEWER), ("wall", Role.VIEWER)):
        env.add_user(extra, role)
    s.groups.grant(env.local(), "gb", "victim")
    w.ids["token"] = s.tokens.create(env.acting("admin-in"), "wall")[0].id
    ivy, mel, sue = w.ctx("investigator-in"), w.ctx("investigator-member"), w.ctx("supervisor-in")
    photo = [("p.jpg", w.portrait)]
    later = NOW + timedelta(days=10)
    entry = s.watchlists.propose(ivy, "suspect", photo, basis="b", reference="r", expires=later)
    s.watchlists.approve(sue, entry.id)
    w.ids["entry_pending"] = s.watchlists.propose(
        ivy, "pending", photo, basis="b", reference="r", expires=later
    ).id
    w.ids["entry_end"] = s.watchlists.propose(
        ivy, "to end", photo, basis="b", reference="r", expires=later
    ).id
    w.ids["alert"] = matching_alert(env, gate)
    face = hopper(portrait_path)
    (sighting,) = store_sightings_at(env, gate, face.descriptor[np.newaxis, :], SEEN)
    with s.db.write() as session:
        session.execute(
            update(SightingRow).where(SightingRow.id == sighting).values(crop=face.crop_jpeg)
        )
    w.ids["sighting"] = sighting

    def case() -> int:
        spec = CaseSpec(
            "person at the gate", "basis", "AZ 1", "find them", SEEN - timedelta(hours=1),
            NOW, NOW + timedelta(days=5), cameras=["gate"],
        )  # fmt: skip
        return s.cases.open(mel, spec).id

    w.ids["case"], w.ids["case_pending"], w.ids["case_close"] = case(), case(), case()
    for approved in (w.ids["case"], w.ids["case_close"]):
        s.cases.approve(sue, approved)
    s.search.search(mel, w.ids["case"], photo)
    s.partners.register(env.acting("admin-in"), "insurer", "Insurer Ltd", "claims")
    w.ids["subject_request"] = _subject_request(w)["request_id"]
    s.subjects.approve(sue, w.ids["subject_request"])
    clerk = w.ctx(f"clerk{w.ids['clerks']}")
    s.subject_review.review(clerk, w.ids["subject_request"], [sighting])
    fair = EventSpec("fair", "ga", NOW - timedelta(hours=1), NOW + timedelta(hours=5))
    w.ids["event"] = s.events.create(env.acting("admin-in"), fair).id
    return w


@dataclass(frozen=True)
class Call:
    path: dict[str, object] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    json: Any = None
    files: Callable[[World], Any] | None = None
    data: dict[str, str] | None = None
    owner: str | None = None  # whose thing it is (Scope.OWN)
    before: Callable[[World], dict[str, object]] | None = None  # fresh path values per call
    stream: bool = False


def _hold(w: World) -> dict[str, object]:
    span = TimeRange(SEEN, SEEN + timedelta(minutes=5))
    return {"hold_id": w.env.services.recordings.hold(w.ctx("supervisor-in"), "gate", span, "r").id}


def _spare(w: World) -> dict[str, object]:
    if "spare" not in {c.name for c in w.env.services.cameras.list(w.env.local())}:
        w.env.services.cameras.add(w.env.local(), CameraSpec("spare", "rtsp://h/s", group="ga"))
    return {}


def _fresh_camera(w: World) -> str:
    w.ids["cameras_made"] = w.ids.get("cameras_made", 0) + 1
    name = f"pub{w.ids['cameras_made']}"
    w.env.services.cameras.add(w.env.local(), CameraSpec(name, f"rtsp://h/{name}", group="ga"))
    return name


def _to_publish(w: World) -> dict[str, object]:
    return {"name": _fresh_camera(w)}


def _proposed(w: World) -> dict[str, object]:
    publications = w.env.services.publications
    proposal = publications.propose(w.ctx("admin-in"), _fresh_camera(w), "a street festival")
    return {"publication_id": proposal.id}


def _key(w: World) -> dict[str, object]:
    spec = KeySpec(["gate"], NOW - timedelta(days=1), NOW + timedelta(days=1), 600)
    return {"key_id": w.env.services.partners.issue(w.ctx("admin-in"), "insurer", spec)[0].id}


def _zone(w: World, *steps: str) -> dict[str, object]:
    """A fresh zone over group ga, taken through those steps; it begins tomorrow, so that
    approving it erases no sighting the other operations need (zones reach back)."""
    zones = w.env.services.zones
    zone = zones.propose(w.ctx("admin-in"), "a rally", group="ga", start=NOW + timedelta(days=1))
    for step in steps:
        getattr(zones, step)(
            w.ctx("admin-in" if step == "propose_lift" else "supervisor-in"), zone.id
        )
    return {"zone_id": zone.id}


def _subject_request(w: World) -> dict[str, object]:
    """A fresh request taken by a DPO who is none of the people walking the table (a new
    one each time: a person may send 30 photos a minute)."""
    w.ids["clerks"] = w.ids.get("clerks", 0) + 1
    clerk = w.env.add_user(f"clerk{w.ids['clerks']}", Role.DPO)
    photo = [("p.jpg", w.portrait)]
    taken = w.env.services.subjects.open(
        clerk, photo, reference="DPO-1", identity_checked_by="clerk"
    )
    return {"request_id": taken.id}


def _answered(w: World) -> dict[str, object]:
    taken = _subject_request(w)
    w.env.services.subjects.approve(w.ctx("supervisor-in"), int(str(taken["request_id"])))
    return taken


def _reviewed(w: World) -> dict[str, object]:
    taken = _answered(w)
    clerk = w.ctx(f"clerk{w.ids['clerks']}")
    w.env.services.subject_review.review(clerk, int(str(taken["request_id"])), [])
    return taken


def _photo(w: World) -> Any:
    return [("photos", ("p.jpg", w.portrait, "image/jpeg"))]


SPAN = {"start": (NOW - timedelta(minutes=10)).isoformat(), "end": NOW.isoformat()}
CALLS: dict[tuple[str, str], Call] = {
    ("GET", "/api/v1/users/{name}"): Call({"name": "victim"}),
    ("POST", "/api/v1/users"): Call(
        json={"name": "newbie", "role": "viewer", "password": PASSWORD}
    ),
    ("POST", "/api/v1/users/{name}/disable"): Call({"name": "victim"}),
    ("POST", "/api/v1/tokens"): Call(json={}),
    ("DELETE", "/api/v1/tokens/{token_id}"): Call({"token_id": "token"}, owner="wall"),
    ("GET", "/api/v1/audit/entries/{seq}"): Call({"seq": 0}),
    ("GET", "/api/v1/audit/proofs/inclusion"): Call(query={"seq": "0"}),
    ("GET", "/api/v1/audit/transparency"): Call(query=SPAN),
    # The first auditor publishes; the others find it published (409: allowed, not refused).
    ("POST", "/api/v1/audit/transparency/publications"): Call(json={"month": LAST_MONTH}),
    ("GET", "/api/v1/audit/proofs/consistency"): Call(query={"old": "1", "new": "2"}),
    ("POST", "/api/v1/faces/detect"): Call(
        files=lambda w: {"image": ("p.jpg", w.portrait, "image/jpeg")}
    ),
    ("POST", "/api/v1/faces/compare"): Call(
        files=lambda w: {"a": ("a.jpg", w.portrait, "image/jpeg"), "b": ("b.jpg", w.portrait)}
    ),
    ("POST", "/api/v1/cameras"): Call(json={"name": "newcam", "url": "rtsp://h/n", "group": "ga"}),
    ("GET", "/api/v1/cameras/{name}"): Call({"name": "gate"}),
    ("DELETE", "/api/v1/cameras/{name}"): Call({"name": "spare"}, before=_spare),
    ("PATCH", "/api/v1/cameras/{name}"): Call({"name": "gate"}, json={"analysis_fps": 1}),
    ("GET", "/api/v1/cameras/{name}/status"): Call({"name": "gate"}),
    ("GET", "/api/v1/cameras/{name}/recordings"): Call({"name": "gate"}, query=SPAN),
    ("GET", "/api/v1/cameras/{name}/recording.mp4"): Call({"name": "gate"}, query=SPAN),
    ("GET", "/api/v1/cameras/{name}/live.mp4"): Call({"name": "gate"}, stream=True),
    ("POST", "/api/v1/cameras/{name}/holds"): Call(
        {"name": "gate"}, json={**SPAN, "reason": "incident 4"}
    ),
    ("DELETE", "/api/v1/holds/{hold_id}"): Call(owner="supervisor-in", before=_hold),
    ("PUT", "/api/v1/camera-groups/{group}/members/{user}"): Call(
        {"group": "gb", "user": "victim"}
    ),
    ("DELETE", "/api/v1/camera-groups/{group}/members/{user}"): Call(
        {"group": "gb", "user": "victim"}
    ),
    ("POST", "/api/v1/watchlist"): Call(
        files=_photo,
        data={
            "label": "someone",
            "legal_basis": "court order",
            "reference": "AZ 9",
            "expires_at": (NOW + timedelta(days=5)).isoformat(),
        },
    ),
    ("POST", "/api/v1/watchlist/{entry_id}/approve"): Call({"entry_id": "entry_pending"}),
    ("POST", "/api/v1/watchlist/{entry_id}/end"): Call(
        {"entry_id": "entry_end"}, owner="investigator-in"
    ),
    ("POST", "/api/v1/alerts/{alert_id}/confirm"): Call({"alert_id": "alert"}),
    ("POST", "/api/v1/alerts/{alert_id}/reject"): Call({"alert_id": "alert"}),
    ("GET", "/api/v1/alerts/{alert_id}/{which}.jpg"): Call(
        {"alert_id": "alert", "which": "reference"}
    ),
    ("GET", "/api/v1/alerts/events"): Call(stream=True),
    ("POST", "/api/v1/cases"): Call(
        json={
            "subject": "s",
            "legal_basis": "b",
            "reference": "r",
            "purpose": "p",
            "cameras": ["gate"],
            "from": SPAN["start"],
            "to": SPAN["end"],
            "expires_at": (NOW + timedelta(days=5)).isoformat(),
        }
    ),
    ("GET", "/api/v1/cases/{case_id}"): Call({"case_id": "case"}),
    ("POST", "/api/v1/cases/{case_id}/approve"): Call({"case_id": "case_pending"}),
    ("POST", "/api/v1/cases/{case_id}/reject"): Call({"case_id": "case_pending"}),
    ("POST", "/api/v1/cases/{case_id}/close"): Call({"case_id": "case_close"}),
    ("POST", "/api/v1/cases/{case_id}/members"): Call(
        {"case_id": "case_close"}, json={"user": "investigator-member"}
    ),
    ("POST", "/api/v1/cases/{case_id}/searches"): Call({"case_id": "case"}, files=_photo),
    ("GET", "/api/v1/cases/{case_id}/results"): Call({"case_id": "case"}),
    ("POST", "/api/v1/cases/{case_id}/confirmations"): Call(
        {"case_id": "case"}, json={"sighting_ids": ["sighting"]}
    ),
    ("GET", "/api/v1/cases/{case_id}/results/{sighting_id}/crop.jpg"): Call(
        {"case_id": "case", "sighting_id": "sighting"}
    ),
    ("GET", "/api/v1/cases/{case_id}/report"): Call({"case_id": "case"}),
    ("POST", "/api/v1/cameras/{name}/publication"): Call(
        json={"reason": "a street festival"}, before=_to_publish
    ),
    ("POST", "/api/v1/publications/{publication_id}/approve"): Call(before=_proposed),
    ("POST", "/api/v1/publications/{publication_id}/withdraw"): Call(before=_proposed),
    ("POST", "/api/v1/organisations"): Call(
        json={"name": "broadcaster", "title": "TV", "purpose": "news"}
    ),
    ("POST", "/api/v1/organisations/{name}/keys"): Call(
        {"name": "insurer"},
        json={
            "cameras": ["gate"],
            "valid_from": NOW.isoformat(),
            "valid_until": (NOW + timedelta(days=5)).isoformat(),
            "quota_s": 600,
        },
    ),
    ("POST", "/api/v1/partner-keys/{key_id}/approve"): Call(before=_key),
    ("POST", "/api/v1/partner-keys/{key_id}/revoke"): Call(before=_key),
    ("GET", "/api/v1/organisations/{name}/usage"): Call(
        {"name": "insurer"}, query={"month": f"{NOW:%Y-%m}"}
    ),
    ("POST", "/api/v1/events"): Call(
        json={
            "name": "market",
            "group": "ga",
            "start": SPAN["end"],
            "end": (NOW + timedelta(hours=2)).isoformat(),
        }
    ),
    ("GET", "/api/v1/events/{event_id}"): Call({"event_id": "event"}),
    ("POST", "/api/v1/no-identification"): Call(
        json={"reason": "a rally", "group": "ga", "start": SPAN["end"]}
    ),
    ("POST", "/api/v1/no-identification/{zone_id}/approve"): Call(before=_zone),
    ("POST", "/api/v1/no-identification/{zone_id}/lift"): Call(
        before=lambda w: _zone(w, "approve")
    ),
    ("POST", "/api/v1/no-identification/{zone_id}/approve-lift"): Call(
        before=lambda w: _zone(w, "approve", "propose_lift")
    ),
    ("POST", "/api/v1/subject-requests"): Call(
        files=_photo, data={"reference": "DPO-2", "identity_checked_by": "at the counter"}
    ),
    ("GET", "/api/v1/subject-requests/{request_id}"): Call({"request_id": "subject_request"}),
    ("POST", "/api/v1/subject-requests/{request_id}/approve"): Call(
        json={}, before=_subject_request
    ),
    ("POST", "/api/v1/subject-requests/{request_id}/reject"): Call(
        json={"reason": "no identity shown"}, before=_subject_request
    ),
    ("GET", "/api/v1/subject-requests/{request_id}/found"): Call({"request_id": "subject_request"}),
    ("GET", "/api/v1/subject-requests/{request_id}/found/{sighting_id}/crop.jpg"): Call(
        {"request_id": "subject_request", "sighting_id": "sighting"}
    ),
    ("POST", "/api/v1/subject-requests/{request_id}/review"): Call(
        json={"confirmed": []}, before=_answered
    ),
    ("POST", "/api/v1/subject-requests/{request_id}/erase"): Call(before=_reviewed),
    ("GET", "/api/v1/subject-requests/{request_id}/answer"): Call(
        {"request_id": "subject_request"}
    ),
    ("GET", "/events/{event_id}"): Call({"event_id": "event"}),
    ("GET", "/cameras/{name}"): Call({"name": "gate"}),
    ("GET", "/cameras/{name}/live"): Call({"name": "gate"}),
    ("GET", "/cases/{case_id}"): Call({"case_id": "case"}),
}
LAST = ("POST", "/api/v1/auth/logout")  # ends the session the others use


def expected(rule: Rule, call: Call, person: Person) -> bool:
    """What the table says of this cell."""
    owner = call.owner == person.name
    if not rule.allows(person.role) and not (rule.scope == Scope.OWN and owner):
        return False
    perms = ROLE_PERMISSIONS[person.role]
    return {
        Scope.NONE: True,
        Scope.OWN: True,
        Scope.REGISTRY: person.in_group or Permission.CAMERAS_MANAGE in perms,
        Scope.CAMERA: person.in_group,
        Scope.CASE_RECORD: person.member or Permission.CASES_APPROVE in perms,
        Scope.CASE: person.member,
    }[rule.scope]


def _operations(app: Any) -> set[tuple[str, str]]:
    """Every operation of the OpenAPI document, every web page, and the API's description."""
    found = {(m.upper(), path) for path, item in app.openapi()["paths"].items() for m in item}
    found |= {(m, r.path) for r in pages.router.routes for m in r.methods if m != "HEAD"}
    return found | set(DESCRIBED)


def _value(w: World, value: object) -> object:
    if isinstance(value, str) and value in w.ids:
        return w.ids[value]
    if isinstance(value, list):
        return [_value(w, v) for v in value]
    return value


def _call(client: TestClient, w: World, method: str, template: str, csrf: str) -> int:
    call = CALLS.get((method, template), Call())
    values = {k: _value(w, v) for k, v in call.path.items()}
    if call.before is not None:
        values |= call.before(w)
    path = re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)
    body = call.json
    if isinstance(body, dict):
        body = {k: _value(w, v) for k, v in body.items()}
    request: dict[str, Any] = {
        "params": call.query,
        "headers": {"X-CSRF-Token": csrf},
        "json": body,
        "files": None if call.files is None else call.files(w),
        "data": call.data,
    }
    if call.stream:
        with client.stream(method, path, **request) as answer:
            return answer.status_code
    return client.request(method, path, **request).status_code


def test_the_table_covers_every_route_and_its_document_is_current(env: Env) -> None:
    app = create_api(env.services)
    assert _operations(app) - PUBLIC - set(PARTNER) == set(RULES)  # a new route joins it
    assert set(CALLS) <= set(RULES)
    assert DOC.read_text() == render_markdown(), "run: python -m vigil.api.permissions"


@pytest.mark.slow
def test_every_operation_for_every_role_matches_the_table(env: Env, portrait_path: Path) -> None:
    w = _build(env, portrait_path)
    app = create_api(env.services)
    operations = [*sorted(_operations(app) - PUBLIC - set(PARTNER) - {LAST}), LAST]
    wrong: list[str] = []
    cells = allowed_cells = 0
    for person in PEOPLE:
        with TestClient(app, raise_server_exceptions=False) as client:
            signed = client.post(
                "/api/v1/auth/login", json={"username": person.name, "password": PASSWORD}
            )
            assert signed.status_code == 200, signed.text
            csrf = signed.json()["csrf_token"]
            for method, template in operations:
                status = _call(client, w, method, template, csrf)
                cells += 1
                allowed = expected(
                    RULES[(method, template)], CALLS.get((method, template), Call()), person
                )
                allowed_cells += allowed
                if status >= 500 or status == 401:
                    wrong.append(f"{person.name} {method} {template}: {status}")
                elif allowed == (status in (403, 404)):
                    said = "allowed" if allowed else "denied"
                    wrong.append(f"{person.name} {method} {template}: {status}, table: {said}")
    print(
        f"\n{cells} cells ({len(operations)} operations x {len(PEOPLE)} people): "
        f"{allowed_cells} allowed, {cells - allowed_cells} denied"
    )
    assert wrong == [], "\n".join(wrong)
