"""Which sightings a case's search may reach: its cameras and window, described, outside
the no-identification zones in force."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from vigil.crowds.zones import excluded
from vigil.faces.descriptors import tags_with
from vigil.store.models import CaseRow, SightingRow


def scope_filter(
    case: CaseRow, cameras: Iterable[int], embedder: str | None = None
) -> tuple[ColumnElement[bool], ...]:
    """Sightings of the case's cameras and time window that still hold a descriptor (of
    ``embedder``'s kind, if named): the cameras' own, and files imported into this case
    (another case's imports are its evidence alone)."""
    kind = () if embedder is None else (described_by(embedder),)
    return (
        or_(SightingRow.case_id.is_(None), SightingRow.case_id == case.id),
        SightingRow.camera_id.in_(list(cameras)),
        SightingRow.start >= case.scope_start,
        SightingRow.start < case.scope_end,
        SightingRow.embedding.is_not(None),
        *kind,
    )


def described_by(embedder: str) -> ColumnElement[bool]:
    return SightingRow.embedding_models.in_(tags_with(embedder))


def outside_zones(session: Session) -> ColumnElement[bool]:
    """Not inside a no-identification zone in force: searches never reach those periods,
    even for sightings stored before the zone was marked."""
    return excluded(session, SightingRow.camera_id, SightingRow.start, SightingRow.end)


def scope_count(
    session: Session, case: CaseRow, cameras: list[int], embedder: str
) -> tuple[int, int]:
    """The sightings in scope that hold a descriptor: of any model, of ``embedder``'s."""
    described, in_scope = session.execute(
        select(func.count(), func.count().filter(described_by(embedder))).where(
            *scope_filter(case, cameras), outside_zones(session)
        )
    ).one()
    return int(described), int(in_scope)
