"""Exports that show one person: the subject's face visible, every other face blurred.

A court, a journalist or the person filmed gets the subject and no bystander. The subject is
named by their sightings on the exported camera, and each sighting's stored path (where its
track's faces were, ``analytics.paths``) says where their face is in each frame: between two
of the track's faces, in between; within half an exported frame of one, there. A face the
redactor finds there is left visible; every other face, and the subject's own wherever the
track does not say where it is (before and after it, across a cut), is blurred. The track
was built by the analysis from boxes and descriptors together, so it holds one person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.analytics.paths import FacePath
from vigil.errors import InvalidInput, NotFound
from vigil.publishing.redaction import Box
from vigil.recording.playback import Picture
from vigil.store.models import SightingRow

MAX_SUBJECT_SIGHTINGS = 200
MAX_ID = 2**62


class SubjectFaces:
    """Where the subject's face is in a picture (``render.Shown``)."""

    def __init__(self, paths: list[FacePath], fps: float) -> None:
        self.paths = paths
        self.reach = 0.5 / fps  # half a frame of the export: its nearest frame

    @property
    def sightings(self) -> tuple[int, ...]:
        return tuple(path.sighting_id for path in self.paths)

    def __call__(self, picture: Picture) -> list[Box]:
        height, width = picture.rgb.shape[:2]
        found = (path.box_at(picture.at, width, height, self.reach) for path in self.paths)
        return [box for box in found if box is not None]


def subject_faces(
    session: Session,
    camera_id: int,
    name: str,
    sightings: tuple[int, ...],
    span: tuple[datetime, datetime],
    fps: float,
) -> SubjectFaces:
    """The paths of the subject's sightings, each of camera ``name``'s own recording within
    the span and with its path kept; InvalidInput (or NotFound) naming the one that is not."""
    if len(sightings) > MAX_SUBJECT_SIGHTINGS:
        raise InvalidInput(f"an export shows at most {MAX_SUBJECT_SIGHTINGS} sightings")
    if any(not 1 <= s <= MAX_ID for s in sightings):
        raise InvalidInput("a sighting is a positive number", field="only_subject")
    wanted = sorted(set(sightings))
    rows = {
        row.id: row
        for row in session.scalars(select(SightingRow).where(SightingRow.id.in_(wanted)))
    }
    paths = []
    for sighting in wanted:
        row = rows.get(sighting)
        if row is None or row.camera_id != camera_id:
            raise NotFound(f"{name} has no sighting {sighting}", camera=name, sighting=sighting)
        if row.case_id is not None:
            raise InvalidInput(
                f"sighting {sighting} is of a file imported into a case, not of {name}'s recording",
                sighting=sighting,
            )
        if row.end < span[0] or row.start >= span[1]:
            raise InvalidInput(f"sighting {sighting} is not in that range", sighting=sighting)
        if row.path is None:
            raise InvalidInput(
                f"sighting {sighting} was analysed before Vigil kept where a track's faces "
                "were: analyse its footage again ('vigil analyze --camera --from --to') to "
                "export it alone",
                sighting=sighting,
            )
        paths.append(FacePath.of(row.id, row.start, row.path))
    return SubjectFaces(paths, fps)
