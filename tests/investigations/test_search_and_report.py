"""Search, confirmation and movement reports: all on the record (Art. 12(3)), all metered."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tests.conftest import Env
from tests.investigations.world import (
    NOON,
    World,
    approved_case,
    blurred,
    her_sightings,
    hopper,
    mirrored,
    spec,
    strangers,
    world,
)
from tests.pdfs import pdf_images, pdf_pages, pdf_title
from tests.sightings import store_sightings_at
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.config import CasesConfig
from vigil.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts
from vigil.faces.images import ImageLimits
from vigil.faces.photos import Photos
from vigil.investigations.cases import CaseService
from vigil.investigations.search import SearchService
from vigil.store.models import CaseSearch


def _probe(portrait: Path) -> list[tuple[str, bytes]]:
    return [("probe.jpg", mirrored(portrait))]


def _entries(env: Env, action: str) -> list:  # type: ignore[type-arg]
    with env.services.db.read() as session:
        return list(reversed(env.services.audit.entries(session, EntryFilter(action=action))))


def _metered(env: Env, **config: object) -> SearchService:
    """The search service under other quotas (as a city would set in vigil.toml)."""
    s = env.services
    cases = CaseService(s.access, CasesConfig.model_validate(config))
    photos = Photos(ImageLimits(), concurrent=16, wait_s=60, per_minute=1000)
    return SearchService(s.access, cases, s.search.engine, photos, s.vectors, s.search.point)


def _moves(w: World, portrait: Path) -> int:
    """She is at the gate, then the hall, then the gate again; a stranger is in the hall."""
    her_sightings(w, portrait, "gate", NOON - timedelta(hours=2), n=2)  # 2 min: one visit
    her_sightings(w, portrait, "hall", NOON - timedelta(hours=1))
    her_sightings(w, portrait, "gate", NOON)
    strangers(w, "hall", NOON, 5)
    return approved_case(w, ["gate", "hall"])


def test_search_is_audited_with_the_art_12_3_fields(env: Env, portrait_path: Path) -> None:
    w = world(env)
    case = _moves(w, portrait_path)
    result = env.services.search.search(w.ivy, case, _probe(portrait_path), limit=10)
    assert len(result.results) == 4
    assert [c.similarity for c in result.results] == sorted(
        (c.similarity for c in result.results), reverse=True
    )
    (entry,) = _entries(env, "case.search")
    details = entry.details
    assert entry.actor == "ivy"
    assert datetime.fromisoformat(details["use_start"]) <= datetime.fromisoformat(
        details["use_end"]
    )
    assert details["database"]["cameras"] == ["gate", "hall"]
    assert details["database"]["sightings_searched"] == 9
    assert details["probes"] == result.probes
    assert len(details["probes"][0]) == 64
    assert sorted(m["sighting"] for m in details["matched"]) == sorted(
        c.sighting_id for c in result.results
    )
    assert details["reference"] == "AZ 4711/26"


def test_confirmed_results_make_the_movement_report(env: Env, portrait_path: Path) -> None:
    w = world(env)
    case = _moves(w, portrait_path)
    result = env.services.search.search(w.ivy, case, _probe(portrait_path))
    with pytest.raises(Conflict, match="no confirmed"):
        env.services.reports.report(w.ivy, case, "html")
    ids = [c.sighting_id for c in result.results]
    with pytest.raises(NotFound):
        env.services.search.confirm(w.ivy, case, [ids[0], 10_000])
    otto = env.add_user("otto", Role.INVESTIGATOR, groups=("city",))
    env.services.cases.add_member(w.ivy, case, "otto")
    with pytest.raises(Forbidden):  # supervisors decide on cases; investigators verify
        env.services.search.confirm(w.sue, case, ids)
    env.services.search.confirm(otto, case, ids)  # a second investigator verifies
    confirmed = env.services.search.results(w.ivy, case)
    assert {c.confirmed_by for c in confirmed} == {"otto"}

    html = env.services.reports.report(w.ivy, case, "html")
    page = html.content.decode()
    assert html.media_type.startswith("text/html")
    assert "3 visits to 2 places" in page  # gate (two sightings, one visit), hall, gate
    assert re.search(r"<td>gate</td><td>gate</td><td>2</td>", page)
    # Each visit's clip shows the subject alone: the case's confirmed sightings.
    clip = rf"recording.mp4\?start=[^\"]+&amp;case={case}(&amp;only_subject=(\d+))+\""
    assert len(re.findall(clip, page)) == 3
    assert page.count("data:image/jpeg;base64,") == 3
    assert "<svg" in page
    assert "verified by\notto" in page
    assert hopper(portrait_path).crop_jpeg  # the thumbnails are her face crops

    pdf = env.services.reports.report(w.ivy, case, "pdf")
    assert pdf.content.startswith(b"%PDF")
    assert pdf.filename.endswith(".pdf")
    text = " ".join(pdf_pages(pdf.content))  # the PDF says what the page says
    assert pdf_title(pdf.content) == f"Movement report, case {case}"
    for said in (
        "Only sightings confirmed by a person are in this report",
        "3 visits to 2 places",
        "Map of places",
        "longitude",  # the plot, drawn as vectors
        "Timeline",
        "(/api/v1/cameras/hall/",  # each clip's address is printed beside its link
    ):
        assert said in text, said
    faces = set(re.findall(r"data:image/jpeg;base64,([^\"]+)", page))
    assert pdf_images(pdf.content) == len(faces) > 0  # the thumbnails (each drawn once)

    refused, *reports = _entries(env, "case.report")
    assert refused.outcome == "denied"  # before anything was confirmed
    assert [r.details["format"] for r in reports] == ["html", "pdf"]
    assert reports[0].details["verified_by"] == ["otto"]
    assert reports[0].details["probes"] == result.probes
    assert sorted(reports[0].details["sightings"]) == sorted(ids)
    (confirmation,) = _entries(env, "case.confirm")[-1:]
    assert confirmation.details["verified_by"] == "otto"


def test_the_daily_quota_refuses_and_tells_supervisors(env: Env, portrait_path: Path) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    search = _metered(env, daily_search_quota=2, working_hours="00:00-00:00")
    search.search(w.ivy, case, _probe(portrait_path))
    search.search(w.ivy, case, _probe(portrait_path))
    with pytest.raises(TooManyAttempts, match="daily quota"):
        search.search(w.ivy, case, _probe(portrait_path))
    (notice,) = env.services.notices.list(w.sue)
    assert (notice.kind, notice.username, notice.case_id) == ("search_quota", "ivy", case)
    assert env.services.notices.list(env.add_user("aud", Role.AUDITOR)) == [notice]
    with pytest.raises(Forbidden):
        env.services.notices.list(w.ivy)
    searches = _entries(env, "case.search")
    assert [e.outcome for e in searches] == ["allowed", "allowed", "denied"]
    assert _entries(env, "notice.raise")[0].details["kind"] == "search_quota"

    capped = _metered(env, searches_per_case=2, working_hours="00:00-00:00")
    with pytest.raises(Conflict, match="cap of 2"):
        capped.search(w.ivy, case, _probe(portrait_path))


def test_parallel_searches_stay_within_the_quota(env: Env, portrait_path: Path) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    search = _metered(env, daily_search_quota=3, working_hours="00:00-00:00")
    photo = _probe(portrait_path)

    def attempt(_: int) -> str:
        try:
            search.search(w.ivy, case, photo)
        except TooManyAttempts:
            return "refused"
        return "searched"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert sorted(outcomes) == ["refused"] * 7 + ["searched"] * 3
    with env.services.db.read() as session:
        kept = session.scalars(select(CaseSearch)).all()
    assert [s.results for s in kept] == [1, 1, 1]  # each held place was filled in
    # A search that fails gives its place back: a bad photo costs no quota.
    fresh = _metered(env, daily_search_quota=4, working_hours="00:00-00:00")
    with pytest.raises(InvalidInput):
        fresh.search(w.ivy, case, [("x.jpg", b"not an image")])
    fresh.search(w.ivy, case, photo)
    with pytest.raises(TooManyAttempts):
        fresh.search(w.ivy, case, photo)


def test_unusual_use_raises_notices(env: Env, portrait_path: Path) -> None:
    w = world(env)
    her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    hour = datetime.now(UTC).hour
    closed = f"{(hour + 2) % 24:02d}:00-{(hour + 3) % 24:02d}:00"  # now is outside
    _metered(env, working_hours=closed).search(w.ivy, case, _probe(portrait_path))
    assert [n.kind for n in env.services.notices.list(w.sue)] == ["after_hours"]

    many = CaseService(env.services.access, CasesConfig(opened_per_day_notice=3))
    many.open(w.ivy, spec(["gate"]))  # her second case today: nothing to note yet
    assert len(env.services.notices.list(w.sue)) == 1
    many.open(w.ivy, spec(["gate"]))
    kinds = [n.kind for n in env.services.notices.list(w.sue)]
    assert kinds == ["after_hours", "many_cases"]  # at the third case within 24 h


def test_bad_searches_are_refused_and_change_nothing(env: Env, portrait_path: Path) -> None:
    w = world(env)
    case = approved_case(w, ["gate"])
    blank = Path(portrait_path).read_bytes()[:200]
    for photos, limit in (([], 10), (_probe(portrait_path), 0), ([("x.jpg", blank)], 10)):
        with pytest.raises(InvalidInput):
            env.services.search.search(w.ivy, case, photos, limit=limit)
    assert env.services.search.results(w.ivy, case) == []
    assert all(e.outcome == "denied" for e in _entries(env, "case.search"))


def test_a_weak_probe_is_refused_by_name_unless_the_searcher_chooses_it(
    env: Env, portrait_path: Path
) -> None:
    w = world(env)
    seen = her_sightings(w, portrait_path, "gate", NOON)
    case = approved_case(w, ["gate"])
    weak = [("blurred.jpg", blurred(portrait_path))]
    with pytest.raises(InvalidInput, match=r"blurred\.jpg: .*sharpness [\d.]+ < 4") as refused:
        env.services.search.search(w.ivy, case, weak)
    assert refused.value.fields["failed"]
    assert env.services.search.results(w.ivy, case) == []

    result = env.services.search.search(w.ivy, case, weak, low_quality=True)
    assert result.weak_probe
    # Found, marked as found with a weak photo, and too far to be called a match.
    assert [(c.sighting_id, c.match, c.weak_probe) for c in result.results] == [
        (seen[0], False, True)
    ]
    assert all(c.weak_probe for c in env.services.search.results(w.ivy, case))
    entry = _entries(env, "case.search")[-1]
    assert (entry.outcome, entry.details["low_quality_allowed"]) == ("allowed", True)
    assert entry.details["weak_probe"] is True

    good = env.services.search.search(w.ivy, case, _probe(portrait_path), low_quality=True)
    assert not good.weak_probe  # allowed, but not needed: nothing is marked
    assert not any(c.weak_probe for c in good.results)


def test_a_sighting_is_as_near_as_its_nearest_descriptor(env: Env, portrait_path: Path) -> None:
    w = world(env)
    case_cameras = ["gate"]
    rng = np.random.default_rng(5)
    her = hopper(portrait_path).descriptor
    turned = np.stack(
        [rng.normal(scale=0.1, size=her.size), her + rng.normal(scale=0.01, size=her.size)]
    )
    (both,) = store_sightings_at(env, w.cameras["gate"], turned[None].astype(np.float32), NOON)
    strangers(w, "gate", NOON, 3)
    case = approved_case(w, case_cameras)
    result = env.services.search.search(w.ivy, case, _probe(portrait_path))
    matches = [c for c in result.results if c.match]
    assert [c.sighting_id for c in matches] == [both]
    assert matches[0].distance < 0.4
    assert matches[0].estimated_fmr is not None
    assert matches[0].estimated_fmr <= 1e-3


def test_an_approved_case_is_read_into_the_index_ahead_and_nothing_is_searched(
    env: Env, portrait_path: Path
) -> None:
    w = world(env)
    mine = her_sightings(w, portrait_path, "gate", NOON - timedelta(hours=1), n=2)
    strangers(w, "hall", NOON, 3)
    strangers(w, "yard", NOON, 4)  # outside the case's scope
    env.services.serve_people()  # as the API's process does
    env.services.serve_people()  # once is enough
    assert env.services.cases.approved == [env.services.read_ahead.case_approved]
    vectors = env.services.search.vectors
    case = approved_case(w, ["gate", "hall"])
    env.services.read_ahead.reading[case].join(30)
    assert len(vectors.partitions) == 2 + 3  # the scope's rows, read before any search
    assert _entries(env, "case.search") == []  # reading ahead is no search
    result = env.services.search.search(w.ivy, case, _probe(portrait_path), limit=10)
    assert {c.sighting_id for c in result.results if c.match} == set(mine)
    assert len(vectors.partitions) == 5  # nothing read twice
    refused = env.services.cases.open(w.ivy, spec(["yard"]))
    env.services.cases.reject(w.sue, refused.id)
    assert refused.id not in env.services.read_ahead.reading  # a rejected case is never read
