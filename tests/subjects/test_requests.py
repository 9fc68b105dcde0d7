"""Subject requests with real faces (LFW): a person's own photo, never stored, finds their
sightings and nothing of anyone else; the answer says what watchlists, case searches and
alerts hold about them, and nothing of who; the request is never a side door."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from tests.conftest import SQLITE_ONLY, Env
from tests.recorded import add_camera
from tests.sightings import matching_alert, store_sightings_at
from vigil.audit.signing import verify_statement
from vigil.auth.roles import RequestContext, Role
from vigil.config import FacesConfig
from vigil.errors import Conflict, Forbidden, InvalidInput
from vigil.faces.build import build_face_engine
from vigil.faces.descriptors import width
from vigil.faces.images import ImageLimits
from vigil.faces.reference import ReferenceFace, reference_face
from vigil.investigations.cases import CaseSpec
from vigil.publishing.render import YuNetBoxes
from vigil.recording.service import TimeRange
from vigil.store.models import AuditRow, SightingRow, SubjectMatch, SubjectRequestRow
from vigil.subjects.comparing import Comparisons
from vigil.subjects.report import REPORT_CONTEXT

LFW = "lfw-dev/lfw-deepfunneled"
HIM = ["Colin_Powell_0038", "Colin_Powell_0074"]  # his sightings
HIS_REQUEST = "Colin_Powell_0120"  # the photo he brings: never stored
OTHERS = ["Tony_Blair_0006", "Tony_Blair_0094"]
SEEN = datetime.now(UTC) - timedelta(hours=3)


def _photo(datasets: Path, name: str) -> Path:
    return datasets / LFW / name.rsplit("_", 1)[0] / f"{name}.jpg"


def _face(datasets: Path, name: str) -> ReferenceFace:
    path = _photo(datasets, name)
    return reference_face(
        build_face_engine(FacesConfig()), ImageLimits(), path.name, path.read_bytes()
    )


def _store(env: Env, camera: int, face: ReferenceFace, at: datetime) -> int:
    (sighting,) = store_sightings_at(env, camera, face.descriptor[np.newaxis, :], at)
    with env.services.db.write() as session:
        session.execute(
            update(SightingRow).where(SightingRow.id == sighting).values(crop=face.crop_jpeg)
        )
    return sighting


@dataclass
class City:
    his: list[int]  # his sightings: at the gate (a case confirmed it), in the hall
    theirs: list[int]  # another man's
    alerted: int  # the sighting an alert of his watchlist entry was raised on
    case: int


def _city(env: Env, datasets: Path) -> City:
    """His sightings, another man's, a watchlist entry of his face with an alert, and a
    case search that found him and was confirmed."""
    s = env.services
    gate, hall = add_camera(env, "gate"), add_camera(env, "hall")
    ivy = env.add_user("ivy", Role.INVESTIGATOR, groups=("city",))
    sue = env.add_user("sue", Role.SUPERVISOR, groups=("city",))
    his = [
        _store(env, camera, _face(datasets, name), SEEN + timedelta(minutes=10 * i))
        for i, (camera, name) in enumerate(zip((gate, hall), HIM, strict=True))
    ]
    theirs = [
        _store(env, gate, _face(datasets, name), SEEN + timedelta(minutes=30 + i))
        for i, name in enumerate(OTHERS)
    ]
    entry = s.watchlists.propose(
        ivy,
        "wanted",
        [("p.jpg", _photo(datasets, HIM[0]).read_bytes())],
        basis="court order",
        reference="AZ 7/26",
        expires=datetime.now(UTC) + timedelta(days=5),
    )
    s.watchlists.approve(sue, entry.id)
    matching_alert(env, hall)
    with s.db.read() as session:
        alerted = session.scalar(select(func.max(SightingRow.id)))
    spec = CaseSpec(
        "a man at the gate", "§ 100h StPO", "AZ 9/26", "find him",
        SEEN - timedelta(hours=1), datetime.now(UTC), datetime.now(UTC) + timedelta(days=5),
        cameras=["gate"],
    )  # fmt: skip
    case = s.cases.open(ivy, spec)
    s.cases.approve(sue, case.id)
    s.search.search(ivy, case.id, [("p.jpg", _photo(datasets, HIM[1]).read_bytes())])
    s.search.confirm(ivy, case.id, [his[0]])
    assert alerted is not None
    return City(his, theirs, alerted, case.id)


def _answered(env: Env, datasets: Path, dpo: RequestContext, approver: RequestContext) -> int:
    photo = [("mine.jpg", _photo(datasets, HIS_REQUEST).read_bytes())]
    request = env.services.subjects.open(
        dpo, photo, reference="DPO-2026-001", identity_checked_by="passport at the counter"
    )
    env.services.subjects.approve(approver, request.id)
    found = env.services.subject_review.found(dpo, request.id)
    env.services.subject_review.review(dpo, request.id, [f.sighting for f in found])
    return request.id


def test_a_request_finds_the_person_and_says_what_is_held_but_never_who(
    env: Env, datasets: Path
) -> None:
    s = env.services
    city = _city(env, datasets)
    dana, dora = env.add_user("dana", Role.DPO), env.add_user("dora", Role.DPO)
    sue = env.acting("sue")
    request = s.subjects.open(
        dana,
        [("mine.jpg", _photo(datasets, HIS_REQUEST).read_bytes())],
        reference="DPO-2026-001",
        identity_checked_by="dana, passport at the counter",
    )
    assert request.state == "requested"
    with pytest.raises(Forbidden):
        s.subjects.approve(dana, request.id)  # not one's own
    answered = s.subjects.approve(dora, request.id)
    assert answered.state == "answered"
    with s.db.read() as session:
        assert session.get_one(SubjectRequestRow, request.id).descriptors is None
    with pytest.raises(Conflict):
        s.subject_reports.report(dana, request.id, "json")  # nobody judged what was found
    found = s.subject_review.found(dana, request.id)
    assert {f.sighting for f in found} == {*city.his, city.alerted}
    with pytest.raises(Forbidden):
        s.subject_review.review(sue, request.id, [])  # the approver judges nothing
    s.subject_review.review(dana, request.id, [f.sighting for f in found])
    with pytest.raises(Conflict):
        s.subject_review.review(dana, request.id, [])  # once

    answer = s.subject_reports.report(dana, request.id, "json")
    signed = json.loads(answer.content)
    fields = verify_statement(s.audit.key.public_key, REPORT_CONTEXT, signed, what="the answer")
    found = {held["sighting"] for held in fields["sightings"]}
    assert found == {*city.his, city.alerted}  # his, and the alert's (his reference's face)
    assert not found & set(city.theirs)
    assert all(held["estimated_fmr"] < 1e-3 for held in fields["sightings"])
    assert fields["watchlist"] == {
        "restricted": False, "entries": 1, "legal_bases": ["court order"]
    }  # fmt: skip
    month = datetime.now(UTC).strftime("%Y-%m")
    assert fields["case_searches"] == [
        {"legal_basis": "§ 100h StPO", "month": month, "searches": 1, "confirmed": 1}
    ]
    assert [a["state"] for a in fields["alerts"]] == ["pending"]
    text = answer.content.decode()
    for never in ("AZ 9/26", "AZ 7/26", "ivy", "sue", "wanted"):  # no reference, nobody
        assert never not in text

    html = s.subject_reports.report(dana, request.id, "html").content.decode()
    assert "What Vigil holds about you" in html
    assert "court order" in html
    assert "AZ 9/26" not in html
    assert "ivy" not in html
    pdf = s.subject_reports.report(dana, request.id, "pdf").content
    assert pdf.startswith(b"%PDF")

    # A second request, with a restriction recorded by its approver.
    second = s.subjects.open(
        dana,
        [("mine.jpg", _photo(datasets, HIS_REQUEST).read_bytes())],
        reference="DPO-2026-002",
        identity_checked_by="dana",
    )
    s.subjects.approve(sue, second.id, restriction="an investigation would be prejudiced")
    s.subject_review.review(dana, second.id, [city.his[1]])  # the others: not him
    restricted = json.loads(s.subject_reports.report(dana, second.id, "json").content)
    assert restricted["watchlist"] == {"restricted": True}
    assert [held["sighting"] for held in restricted["sightings"]] == [city.his[1]]
    assert restricted["alerts"] == []  # the alerted sighting was rejected as someone else
    assert restricted["case_searches"] == []  # and the case's confirmed one too
    with s.db.read() as session:
        approvals = session.scalars(
            select(AuditRow.details).where(AuditRow.action == "subject.approve")
        ).all()
    assert any("prejudiced" in d for d in approvals)  # the restriction itself is audited


def test_requests_are_refused_without_an_identity_check_or_the_role(
    env: Env, datasets: Path
) -> None:
    s = env.services
    dana = env.add_user("dana", Role.DPO)
    ivy = env.add_user("ivy", Role.INVESTIGATOR, groups=("city",))
    photo = [("mine.jpg", _photo(datasets, HIS_REQUEST).read_bytes())]
    with pytest.raises(InvalidInput):
        s.subjects.open(dana, photo, reference="DPO-1", identity_checked_by=" ")
    with pytest.raises(InvalidInput):
        s.subjects.open(dana, [("x.jpg", b"not an image")], reference="DPO-1",
                        identity_checked_by="dana")  # fmt: skip
    with pytest.raises(Forbidden):
        s.subjects.open(ivy, photo, reference="DPO-1", identity_checked_by="ivy")
    assert s.subjects.list(dana) == []  # nothing was stored
    request = s.subjects.open(dana, photo, reference="DPO-1", identity_checked_by="dana")
    with pytest.raises(Conflict):
        s.subject_reports.report(dana, request.id, "json")  # not answered yet
    with pytest.raises(Forbidden):
        s.subjects.approve(ivy, request.id)
    rejected = s.subjects.reject(env.add_user("dora", Role.DPO), request.id, "no identity")
    assert rejected.state == "rejected"
    with pytest.raises(Conflict):
        s.subjects.approve(env.add_user("sue", Role.SUPERVISOR), request.id)


def test_a_crop_in_the_answer_shows_no_face_but_the_subjects(env: Env, datasets: Path) -> None:
    """His face in the middle of the crop (as analysis cuts it: 40% margins), another
    person's face cut by the crop's edge: only his is left for YuNet at 1x and 2x."""
    his = Image.open(_photo(datasets, HIM[0])).crop((70, 60, 180, 190))
    theirs = Image.open(_photo(datasets, OTHERS[0])).crop((70, 60, 180, 190))
    canvas = Image.new("RGB", (int(110 * 1.8), int(130 * 1.8)), (128, 128, 128))
    canvas.paste(his, (44, 52))
    canvas.paste(theirs, (canvas.width - 60, 0))  # half of the other face, at the edge
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=95)
    faces = YuNetBoxes()
    before = faces.boxes(np.asarray(canvas))
    assert len(before) >= 2, before  # both faces are there to find
    shown = env.services.subject_reports.only_subject(out.getvalue())
    after = faces.boxes(np.asarray(Image.open(io.BytesIO(shown)).convert("RGB")))
    assert after, "his own face is left as it was"
    for left, top, right, bottom in after:  # each scale finds his face; nobody else's
        centre = ((left + right) / 2, (top + bottom) / 2)
        assert 44 < centre[0] < 44 + 110, after
        assert 52 < centre[1] < 52 + 130, after
    assert any(
        (left + right) / 2 > canvas.width - 60 for left, _, right, _ in before
    )  # the other was found


def test_erasure_keeps_what_a_hold_a_case_or_a_watchlist_needs_and_says_why(
    env: Env, datasets: Path
) -> None:
    s = env.services
    city = _city(env, datasets)
    dana = env.add_user("dana", Role.DPO)
    request = _answered(env, datasets, dana, env.acting("sue"))
    hall_sighting = city.his[1]
    held = TimeRange(SEEN + timedelta(minutes=9), SEEN + timedelta(minutes=12))
    hold = s.recordings.hold(env.acting("sue"), "hall", held, "a complaint")
    with pytest.raises(Forbidden):
        s.erasure.erase(env.acting("ivy"), request)

    done = s.erasure.erase(dana, request)
    assert done.kept == {
        city.his[0]: "confirmed in an open investigation",
        hall_sighting: f"under evidence hold {hold.id}",
        city.alerted: "an alert of a watchlist entry in force",
    }
    assert done.erased == []  # everything of his is kept for a reason here
    with pytest.raises(Conflict):
        s.erasure.erase(dana, request)  # once

    # Once the case is closed, the hold released and the entry ended, a new request's
    # erasure leaves none of his descriptors.
    s.cases.close(env.acting("ivy"), city.case)
    s.recordings.release(env.acting("sue"), hold.id)
    (entry,) = s.watchlists.list(env.acting("sue"))
    s.watchlists.end(env.acting("sue"), entry.id)
    second = _answered(env, datasets, dana, env.acting("sue"))
    done = s.erasure.erase(dana, second)
    assert done.kept == {}
    assert sorted(done.erased) == sorted([*city.his, city.alerted])
    with s.db.read() as session:
        left = session.scalars(
            select(SightingRow.id).where(SightingRow.embedding.is_not(None))
        ).all()
    assert sorted(left) == sorted(city.theirs)  # his are gone, the other man's stay
    answer = json.loads(s.subject_reports.report(dana, second, "json").content)
    assert all(held["face_crop_jpeg"] is None for held in answer["sightings"])
    assert s.audit_service.verify(env.local()).ok


def test_a_sighting_beyond_the_match_point_is_put_before_a_person_as_possible_only(
    env: Env, datasets: Path
) -> None:
    """Alvaro Noboa asks with one photo of his; a camera holds two others of him: one
    within the match point, one beyond it (another day, another light) but within the
    calibration's FMR 1e-4 point. Both are put before the DPO, the second as possible with
    its weaker false-match estimate; only what the DPO confirms is answered."""
    s = env.services
    gate = add_camera(env, "gate")
    near, far = (
        _store(env, gate, _face(datasets, name), SEEN + timedelta(minutes=i))
        for i, name in enumerate(("Alvaro_Noboa_0003", "Alvaro_Noboa_0002"))
    )
    other = _store(env, gate, _face(datasets, OTHERS[0]), SEEN + timedelta(minutes=5))
    dana, dora = env.add_user("dana", Role.DPO), env.add_user("dora", Role.DPO)
    photo = [("mine.jpg", _photo(datasets, "Alvaro_Noboa_0001").read_bytes())]
    request = s.subjects.open(dana, photo, reference="DPO-3", identity_checked_by="dana")
    s.subjects.approve(dora, request.id)
    found = {f.sighting: f for f in s.subject_review.found(dana, request.id)}
    assert set(found) == {near, far}  # never the other man
    assert found[near].match
    assert not found[far].match
    assert found[far].estimated_fmr > found[near].estimated_fmr
    point = s.subjects.point
    with s.db.read() as session:
        comparison = session.scalars(
            select(AuditRow.details).where(AuditRow.action == "subject.compare")
        ).one()
        distances = session.execute(
            select(SubjectMatch.sighting_id, SubjectMatch.distance).where(
                SubjectMatch.request_id == request.id
            )
        ).all()
    assert json.loads(comparison)["beyond_the_match_point"] == 1
    for sighting, distance in distances:
        assert (distance <= point.threshold) == (sighting == near)
        assert distance <= point.possible
    assert other not in found

    s.subject_review.review(dana, request.id, [near])  # not sure of the far one: rejected
    answer = json.loads(s.subject_reports.report(dana, request.id, "json").content)
    assert [held["sighting"] for held in answer["sightings"]] == [near]
    judged = {f.sighting: f.verdict for f in s.subject_review.found(dana, request.id)}
    assert judged == {near: "confirmed", far: "rejected"}


def test_where_people_are_served_a_request_is_compared_in_the_background(
    env: Env, datasets: Path
) -> None:
    """The API's process compares an approved request in a thread of its own (the approver
    waits for it 10 s at most: the archive may take minutes to read), and a request a
    stopped process left being compared is compared when the next one starts."""
    s = env.services
    city = _city(env, datasets)
    dana, dora = env.add_user("dana", Role.DPO), env.add_user("dora", Role.DPO)
    photo = [("mine.jpg", _photo(datasets, HIS_REQUEST).read_bytes())]
    first, second = (
        s.subjects.open(dana, photo, reference=f"DPO-{n}", identity_checked_by="dana")
        for n in (1, 2)
    )
    queued: list[int] = []
    s.subjects.approved.append(queued.append)  # a process that stops before comparing
    assert s.subjects.approve(dora, first.id).state == "comparing"
    assert queued == [first.id]
    assert s.subjects.comparing() == [first.id]
    s.subjects.approved.remove(queued.append)

    serving = Comparisons(s.subjects)  # the next process takes it up
    serving.start()
    assert s.subjects.approve(dora, second.id).state == "answered"  # a small archive: at once
    serving.close()  # waits for the one left over, compared first
    assert s.subjects.comparing() == []
    with pytest.raises(Conflict):
        s.subjects.compare(first.id)  # compared once
    for request in (first, second):
        found = {f.sighting for f in s.subject_review.found(dana, request.id)}
        assert found == {*city.his, city.alerted}
    with s.db.read() as session:
        compared = session.scalars(
            select(AuditRow.actor).where(AuditRow.action == "subject.compare")
        ).all()
    assert compared == ["system", "system"]


@SQLITE_ONLY
def test_a_batch_is_compared_as_each_sighting_alone_would_be(env: Env) -> None:
    """The comparison reads sightings a batch at a time and measures them together: each
    sighting's nearest distance is the one measured sighting by sighting."""
    subjects = env.services.subjects
    tag = subjects.engine.model.tag  # as sightings are stored
    rng = np.random.default_rng(7)
    size = width(tag)
    counts = rng.integers(1, 6, 200)
    blobs = [rng.normal(0, 0.1, (n, size)).astype("<f4") for n in counts]
    probes = subjects.point.calibration.space.of(
        rng.normal(0, 0.1, (3, size)).astype(np.float32), tag
    )
    sightings = [(i, blob.tobytes()) for i, blob in enumerate(blobs)]
    together = subjects.archive.nearest_each(sightings, tag, probes)
    assert together is not None
    for (distance, described), blob in zip(together, blobs, strict=True):
        vectors = subjects.point.calibration.space.of(blob, tag)
        alone = np.min(np.linalg.norm(vectors[:, np.newaxis] - probes[np.newaxis], axis=2))
        assert distance == pytest.approx(alone, abs=1e-5)
        assert described == len(blob)
