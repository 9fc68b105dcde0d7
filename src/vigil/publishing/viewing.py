"""Public viewing, counted and never tracked: per camera and day (UTC), how many streams the
public opened and how many seconds of video they were sent. No address, session or time of
day is kept, so the counts cannot tell viewers apart; the transparency report shows them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.store.db import Database
from vigil.store.models import Camera, PublicViewing


def count_viewing(db: Database, camera_id: int, opened: datetime, seconds: float) -> None:
    """One public stream of the camera, opened then, that sent ``seconds`` of video."""
    day = opened.astimezone(UTC).date()
    with db.write() as session:
        db.serialise(session, f"public-viewing:{camera_id}:{day.isoformat()}")
        row = session.get(PublicViewing, (camera_id, day))
        if row is None:
            session.add(PublicViewing(camera_id=camera_id, day=day, streams=1, seconds=seconds))
        else:
            row.streams += 1
            row.seconds += seconds


def viewing_by_camera(session: Session, first: date, last: date) -> dict[str, Any]:
    """Each camera's public streams and minutes watched over the days [first, last]."""
    rows = session.execute(
        select(Camera.name, func.sum(PublicViewing.streams), func.sum(PublicViewing.seconds))
        .join(PublicViewing, PublicViewing.camera_id == Camera.id)
        .where(PublicViewing.day >= first, PublicViewing.day <= last)
        .group_by(Camera.name)
        .order_by(Camera.name)
    )
    return {
        str(name): {"streams": int(streams or 0), "watched_min": round(float(s or 0) / 60, 2)}
        for name, streams, s in rows
    }
