"""Imported files are a case's evidence, not a camera's recording (issue 28, item 1).

The outside test's reproduction: an investigator exported a minute of a camera inside an
approved no-identification zone, imported it as another camera (or the same camera before
the zone began), searched, and found four people. Now the export leaves with every face
blurred, its hash ties it to its own camera and time (so its import is refused), and an
import is seen inside its own case alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, SQLITE_ONLY, Env
from tests.crowds.test_zones import _his_face
from tests.publishing.footage import HAMILTON, record_clip
from tests.recorded import add_camera
from vigil.audit.log import EntryFilter
from vigil.auth.roles import RequestContext, Role
from vigil.errors import Forbidden, InvalidInput, NotFound
from vigil.faces.yunet import YuNetDetector
from vigil.investigations.cases import CaseSpec
from vigil.recording.service import TimeRange
from vigil.store.models import SightingRow


@dataclass
class World:
    env: Env
    ivy: RequestContext
    sue: RequestContext
    recorded: datetime  # the clip on square, inside the zone
    zone: int
    photo: list[tuple[str, bytes]]

    def case(self, *cameras: str, imports: bool = True, zones: tuple[int, ...] = ()) -> int:
        now = datetime.now(UTC)
        spec = CaseSpec(
            "him", "court order", "AZ 7", "find him", now - timedelta(hours=2),
            now + timedelta(minutes=5), now + timedelta(days=2), cameras=list(cameras),
            imports=imports,
        )  # fmt: skip
        opened = self.env.services.cases.open(self.ivy, spec)
        self.env.services.cases.approve(self.sue, opened.id, zones)
        return opened.id


def _world(env: Env, datasets: Path) -> World:
    """Square (in a zone in force for the last hour, Hamilton's clip recorded there a minute
    ago) and street, another camera the investigator may name."""
    square = add_camera(env, "square", group="plaza")
    add_camera(env, "street", group="open")
    env.add_user("ada", Role.ADMIN)
    sue = env.add_user("sue", Role.SUPERVISOR, groups=("plaza", "open"))
    ivy = env.add_user("ivy", Role.INVESTIGATOR, groups=("plaza", "open"))
    now = datetime.now(UTC)
    zone = env.services.zones.propose(
        env.acting("ada"), "a protected assembly", group="plaza", start=now - timedelta(hours=1)
    )
    env.services.zones.approve(sue, zone.id)
    start = time.time() - 60
    assert record_clip(env, square, datasets / HAMILTON, start)
    photo = [("him.jpg", _his_face(datasets))]
    return World(env, ivy, sue, datetime.fromtimestamp(start, UTC), zone.id, photo)


def _faces(path: Path) -> int:
    """Frames of the file where a detector finds a face."""
    judge = YuNetDetector(smallest_px=10, max_scale=2.0, cut_faces=True)
    with av.open(str(path)) as container:
        return sum(
            bool(judge.detect(f.to_ndarray(format="rgb24"))) for f in container.decode(video=0)
        )


def _export(w: World, out: Path, case: int | None = None) -> Path:
    span = TimeRange(w.recorded + timedelta(seconds=1), w.recorded + timedelta(seconds=8))
    clip = w.env.services.recordings.export(w.ivy, "square", span, out.parent, case=case)
    clip.path.rename(out)
    return out


def _imported(env: Env) -> list[SightingRow]:
    with env.services.db.read() as session:
        return list(session.scalars(select(SightingRow).where(SightingRow.case_id.is_not(None))))


@SQLITE_ONLY
def test_zone_footage_is_not_laundered_through_export_and_import(
    env: Env, datasets: Path, tmp_path: Path
) -> None:
    w = _world(env, datasets)
    case = w.case("square", "street")

    # The export leaves blurred: no face in any frame, and the audit entry says why.
    exported = _export(w, tmp_path / "zone.mp4")
    assert _faces(exported) == 0
    with env.services.db.read() as session:
        (entry,) = env.services.audit.entries(session, EntryFilter(action="recording.export"))
    assert (entry.details["faces_blurred"], entry.details["zones"]) == (True, [w.zone])

    # Imported as another camera, or before the zone began: it is the export, of square
    # inside the zone, whatever the importer says.
    before = w.recorded - timedelta(hours=1, minutes=30)
    for camera, start in (("street", w.recorded), ("square", before)):
        with pytest.raises(Forbidden, match="no-identification zone"):
            env.services.imports.import_file(w.ivy, case, exported, camera, start)
    # The same pixels in another file (its hash changed) are the importer's word: they are
    # taken as said, and hold no face to find.
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(exported.read_bytes() + b"\0")
    result = env.services.imports.import_file(w.ivy, case, copy, "street", w.recorded)
    assert (result.case, result.from_export, result.sightings) == (case, None, [])
    found = env.services.search.search(w.ivy, case, w.photo)
    assert [c for c in found.results if c.match] == []

    with env.services.db.read() as session:
        imports = env.services.audit.entries(session, EntryFilter(action="case.import"))
    assert [e.outcome for e in reversed(imports)] == ["denied", "denied", "allowed"]
    assert imports[0].details["sha256"] == result.sha256


@SQLITE_ONLY
def test_an_approver_who_acknowledged_the_zone_lets_its_case_export_faces(
    env: Env, datasets: Path, tmp_path: Path
) -> None:
    w = _world(env, datasets)
    shown = env.services.cases.show(w.ivy, w.case("square", zones=()))
    assert [z.id for z in shown.zones] == [w.zone]  # what the approver is shown
    assert shown.zones_seen == []
    acknowledged = w.case("square", zones=(w.zone,))
    assert env.services.cases.show(w.ivy, acknowledged).zones_seen == [w.zone]
    with pytest.raises(InvalidInput, match="does not reach"):
        w.case("street", zones=(w.zone + 1,))

    assert _faces(_export(w, tmp_path / "unacknowledged.mp4", shown.id)) == 0
    assert _faces(_export(w, tmp_path / "for-the-case.mp4", acknowledged)) > 0
    outsider = env.add_user("otto", Role.INVESTIGATOR, groups=("plaza",))
    span = TimeRange(w.recorded, w.recorded + timedelta(seconds=5))
    with pytest.raises(NotFound):  # not a member of the case
        env.services.recordings.export(outsider, "square", span, tmp_path, case=acknowledged)


@SQLITE_ONLY
def test_an_import_is_its_cases_evidence_alone(env: Env, datasets: Path) -> None:
    """Hamilton's clip imported into one case: found by that case's search, marked with
    its hash and importer, never by another case over the same camera and time, and no
    watchlist alert; a case without imports, a camera or time outside the scope refuse."""
    w = _world(env, datasets)
    clip = datasets / HAMILTON
    ours, theirs = w.case("street"), w.case("street")
    with pytest.raises(Forbidden, match="imported files"):
        env.services.imports.import_file(w.ivy, w.case("street", imports=False), clip, "street",
                                         w.recorded)  # fmt: skip
    with pytest.raises(Forbidden, match="not in case"):
        env.services.imports.import_file(w.ivy, ours, clip, "square", w.recorded)
    with pytest.raises(Forbidden, match="window"):
        env.services.imports.import_file(
            w.ivy, ours, clip, "street", w.recorded - timedelta(days=1)
        )
    with pytest.raises(InvalidInput, match="which camera"):
        env.services.imports.import_file(w.ivy, ours, clip, None, None)
    result = env.services.imports.import_file(w.ivy, ours, clip, "street", w.recorded)
    assert result.sightings
    assert result.alerts == 0
    rows = _imported(env)
    assert {(r.case_id, r.imported_sha256, r.imported_by) for r in rows} == {
        (ours, result.sha256, "ivy")
    }
    found = env.services.search.search(w.ivy, ours, w.photo)
    assert {c.sighting_id for c in found.results if c.match} & set(result.sightings)
    elsewhere = env.services.search.search(w.ivy, theirs, w.photo)
    assert elsewhere.results == []


@SQLITE_ONLY
def test_vigil_analyze_imports_into_a_case_only(env: Env, datasets: Path) -> None:
    w = _world(env, datasets)
    case = w.case("street")
    data = env.data_dir
    clip = str(datasets / HAMILTON)
    start = w.recorded.isoformat()
    asked = vigil(data, "analyze", clip, "--camera", "street", "--start", start)
    assert asked.code == 2
    assert "give --case" in asked.stderr
    login = ("--user", "ivy", "--password-file", "-")
    done = vigil(data, *login, "analyze", clip, "--case", str(case), "--camera", "street",
                 "--start", start, "--json", stdin=PASSWORD)  # fmt: skip
    assert done.code == 0, done.stderr
    assert done.json()["case"] == case
    assert done.json()["sightings"] == len(_imported(env)) >= 1
