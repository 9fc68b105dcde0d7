"""Exports that show only the subject (issue 31, item 4): Hamilton's clip recorded, analysed
and searched with Lin-Manuel Miranda's photo; the export of his sightings shows his face
where his tracks put it and no other face in any frame."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from tests.cli_runner import vigil
from tests.conftest import PASSWORD, Env, make_env
from tests.publishing.footage import HAMILTON, record_clip
from tests.recorded import add_camera
from vigil.audit.log import EntryFilter
from vigil.auth.roles import Role
from vigil.errors import InvalidInput, NotFound
from vigil.faces.yunet import YuNetDetector
from vigil.investigations.cases import CaseSpec
from vigil.publishing.redaction import SAME_FACE, overlap
from vigil.publishing.subject import subject_faces
from vigil.recording.manifest import ALL_BUT_SUBJECT, verify_export
from vigil.recording.playback import Picture
from vigil.recording.service import Clip, TimeRange

MIRANDA = Path("face_recognition_examples") / "lin-manuel-miranda.png"


@dataclass
class Stage:
    env: Env
    camera: int
    recorded: datetime
    his: tuple[int, ...]  # his sightings: the case search's matches with his photo

    @property
    def span(self) -> TimeRange:
        return TimeRange(self.recorded, self.recorded + timedelta(seconds=10))


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, datasets: Path) -> Iterator[Stage]:
    """One recording, analysis and search for the module (SQLite: the export's path is
    the same on both backends, and its sightings are tested on both elsewhere)."""
    data = tmp_path_factory.mktemp("stage") / "data"
    env = make_env(data, f"sqlite:///{data / 'vigil.db'}")
    camera = add_camera(env, "stage", group="theatre")
    env.add_user("ada", Role.ADMIN)
    env.add_user("sue", Role.SUPERVISOR, groups=("theatre",))
    ivy = env.add_user("ivy", Role.INVESTIGATOR, groups=("theatre",))
    start = time.time() - 60
    assert record_clip(env, camera, datasets / HAMILTON, start)
    recorded = datetime.fromtimestamp(start, UTC)
    env.services.analytics.reanalyse(
        env.acting("ada"), "stage", recorded - timedelta(seconds=5), datetime.now(UTC)
    )
    now = datetime.now(UTC)
    case = env.services.cases.open(ivy, CaseSpec(
        "the singer", "court order", "AZ 9", "where he was", recorded - timedelta(minutes=1),
        now, now + timedelta(days=2), cameras=["stage"],
    ))  # fmt: skip
    env.services.cases.approve(env.acting("sue"), case.id)
    photo = [("him.png", (datasets / MIRANDA).read_bytes())]
    found = env.services.search.search(ivy, case.id, photo)
    his = tuple(sorted(r.sighting_id for r in found.results if r.match))
    yield Stage(env, camera, recorded, his)
    env.services.close()


def _judged(stage: Stage, clip: Clip) -> tuple[int, int, int]:
    """(frames where his tracks put his face, of those where a detector finds it there,
    faces found anywhere else): YuNet at 1x and 2x, faces cut by the edge included."""
    judges = [YuNetDetector(smallest_px=10, cut_faces=True, max_scale=s) for s in (1.0, 2.0)]
    with stage.env.services.db.read() as session:
        his = subject_faces(session, stage.camera, "stage", stage.his, (clip.start, clip.end), 5)
    tracked = visible = others = 0
    with av.open(str(clip.path)) as container:
        for frame in container.decode(video=0):
            assert frame.time is not None
            rgb = frame.to_ndarray(format="rgb24")
            where = his(Picture(rgb, clip.start.timestamp() + frame.time))
            boxes = [f.box for judge in judges for f in judge.detect(rgb)]
            his_face = [b for b in boxes if any(overlap(b, w) >= SAME_FACE for w in where)]
            tracked += bool(where)
            visible += bool(where) and bool(his_face)
            others += len(boxes) - len(his_face)
    return tracked, visible, others


def test_an_export_of_his_sightings_shows_his_face_and_no_other(
    stage: Stage, tmp_path: Path
) -> None:
    env = stage.env
    assert len(stage.his) >= 5, "his photo finds him on the stage"
    clip = env.services.recordings.export(
        env.acting("ivy"), "stage", stage.span, tmp_path, "the court", subject=stage.his
    )
    tracked, visible, others = _judged(stage, clip)
    assert tracked >= 10
    assert visible >= 0.9 * tracked, f"his face is seen in {visible} of {tracked} frames"
    assert others == 0, "no one else's face can be found"

    redaction = {"faces": ALL_BUT_SUBJECT, "visible_sightings": list(stage.his)}
    fields = verify_export(clip.path, clip.manifest, env.services.audit.key.public_key)
    assert fields["redaction"] == redaction
    with env.services.db.read() as session:
        entry = env.services.audit.entries(session, EntryFilter(action="recording.export"))[0]
    assert entry.details["redaction"] == redaction


def test_the_same_range_without_a_subject_keeps_every_face(stage: Stage, tmp_path: Path) -> None:
    """The check above can fail: the recording as exported shows faces the judge finds."""
    clip = stage.env.services.recordings.export(
        stage.env.acting("ivy"), "stage", stage.span, tmp_path
    )
    with av.open(str(clip.path)) as container:
        judge = YuNetDetector(smallest_px=10, cut_faces=True)
        faces = sum(len(judge.detect(f.to_ndarray(format="rgb24"))) for f in container.decode(0))
    assert faces >= 100
    assert clip.manifest["redaction"] == {"faces": "none", "visible_sightings": []}


def test_a_subject_that_is_not_the_cameras_or_not_then_is_refused(
    stage: Stage, tmp_path: Path
) -> None:
    env, ivy = stage.env, stage.env.acting("ivy")
    recordings = env.services.recordings
    with pytest.raises(NotFound, match="has no sighting 999999"):
        recordings.export(ivy, "stage", stage.span, tmp_path, subject=(999999,))
    with pytest.raises(InvalidInput, match="positive number"):
        recordings.export(ivy, "stage", stage.span, tmp_path, subject=(0,))
    later = TimeRange(stage.span.end - timedelta(seconds=1), stage.span.end)
    with pytest.raises(InvalidInput, match="not in that range"):
        recordings.export(ivy, "stage", later, tmp_path, subject=stage.his[:1])
    with env.services.db.read() as session:
        exports = env.services.audit.entries(session, EntryFilter(action="recording.export"))
    assert [e.outcome for e in exports[:3]] == ["denied"] * 3


def test_the_cli_exports_the_subject_with_a_manifest_that_says_so(
    stage: Stage, tmp_path: Path
) -> None:
    out = tmp_path / "him.mp4"
    args = [
        "camera", "export", "stage", "--from", stage.span.start.isoformat(),
        "--to", stage.span.end.isoformat(), "--out", str(out), "--for", "the court",
    ]  # fmt: skip
    for sighting in stage.his:
        args += ["--only-subject", str(sighting)]
    (tmp_path / "pw").write_text(PASSWORD)
    data = stage.env.data_dir
    result = vigil(data, "--user", "ivy", "--password-file", str(tmp_path / "pw"), *args)
    assert result.code == 0, result.stderr
    signed = out.with_name("him.mp4.manifest.json")
    manifest = json.loads(signed.read_text())
    assert manifest["redaction"] == {"faces": ALL_BUT_SUBJECT, "visible_sightings": [*stage.his]}
    verified = vigil(data, "export", "verify", str(out), str(signed))
    assert verified.code == 0, verified.stderr
