"""Recordings for people: status, segment lists, clip export, live view and evidence holds.

Watching and playback need the cameras.view permission and membership of the camera's
group; every view, list and export is audited with the camera and the time range. Holds
are bounded the same way: placed, listed and released only on cameras of the caller's
groups, over a bounded range of footage that exists or is about to; a hold is released by
whoever placed it, or by a supervisor (``holds.release_any``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.signing import SigningKey
from vigil.auth.access import Access
from vigil.auth.names import check_text
from vigil.auth.roles import Permission, RequestContext
from vigil.cameras.groups import in_groups_of, member_of
from vigil.cameras.registry import find_visible
from vigil.crowds.zones import covering
from vigil.errors import Forbidden, InvalidInput, NotFound, NotReady
from vigil.investigations.membership import zones_cleared
from vigil.publishing.render import render_redacted
from vigil.publishing.subject import SubjectFaces, subject_faces
from vigil.recording.files import SegmentFiles, new_clip
from vigil.recording.index import SegmentIndex
from vigil.recording.live import LiveFeed, LiveHub, hub_feed
from vigil.recording.manifest import (
    ALL_BUT_SUBJECT,
    AS_RECORDED,
    EVERY_FACE,
    Redaction,
    export_manifest,
)
from vigil.recording.playback import export_mp4
from vigil.recording.records import Gap, Segment
from vigil.store.models import Camera, EvidenceHold

MAX_EXPORT = timedelta(hours=1)
MAX_BLURRED = timedelta(minutes=10)  # rendered while the caller waits, every frame searched
MAX_LIST = timedelta(days=7)
RECENT_GAPS = 20
MAX_REASON = 500
MAX_RECIPIENT = 200  # who an export is for: a name, an organisation, a reference
MAX_HOLD = timedelta(days=31)
HOLD_AHEAD = timedelta(days=1)  # a hold may reach this far past now (an incident going on)


@dataclass(frozen=True, slots=True)
class TimeRange:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for moment in (self.start, self.end):
            if moment.tzinfo is None:
                raise InvalidInput("times need a time zone, e.g. 2026-11-23T10:00:00Z")
        if self.start >= self.end:
            raise InvalidInput("the range must end after it starts")

    def limit(self, longest: timedelta) -> TimeRange:
        if self.end - self.start > longest:
            raise InvalidInput(f"the range may span at most {longest}")
        return self

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    camera: str
    start: datetime
    end: datetime
    reason: str
    created_by: str
    created_at: datetime
    released_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "camera": self.camera,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "reason": self.reason,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "released_at": None if self.released_at is None else self.released_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Watching:
    """A live view being watched: what it shows, from where, since when."""

    camera: str
    camera_id: int
    feed: LiveFeed
    started: datetime


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path  # a temporary file the caller deletes
    start: datetime
    end: datetime
    segments: int
    manifest: dict[str, Any]  # signed: recording.manifest


# Opens the live view of a camera that another cluster node records (node, camera id);
# NotReady when it is not streaming, PeerUnavailable when the node cannot be reached.
RemoteLive = Callable[[str, int], LiveFeed]


class RecordingService:
    def __init__(
        self,
        access: Access,
        index: SegmentIndex,
        files: SegmentFiles,
        live: LiveHub,
        signing: SigningKey,
        remote_live: RemoteLive | None = None,
        blur_rate: tuple[int, int] = (5, 1),
    ) -> None:
        self.access = access
        self.blur_rate = blur_rate  # frames a second and threads of exports rendered blurred
        self.signing = signing
        self.db = access.db
        self.index = index
        self.files = files
        self.live = live
        self.remote_live = remote_live

    def _viewable(self, session: Session, ctx: RequestContext, name: str) -> Camera:
        """The camera, if the caller may watch it; one they may not know of is not found."""
        camera = find_visible(session, ctx, name)
        if not member_of(session, ctx.principal, camera.group_id):
            raise Forbidden(
                f"{ctx.principal.name} may not watch {name}: it is not in any of their camera "
                "groups",
                camera=name,
            )
        return camera

    def watchable(self, ctx: RequestContext) -> set[str]:
        """The cameras the caller may watch: those of their camera groups (the live wall's,
        which lists no camera it cannot play)."""
        with self.db.read() as session:
            return set(
                session.scalars(select(Camera.name).where(in_groups_of(session, ctx.principal)))
            )

    def status(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        """Health, coverage and recent gaps (no footage: registry readers may see it)."""
        target = f"camera:{name}"
        with self.access.reading(ctx, Permission.CAMERAS_READ, "camera.status", target) as (
            session,
            _,
        ):
            camera_id = find_visible(session, ctx, name).id
        health = self.index.health(camera_id)
        return {
            "health": None if health is None else health.to_dict(),
            "coverage": self.index.coverage(camera_id),
            "gaps": [g.to_dict() for g in self.index.gaps(camera_id)[-RECENT_GAPS:]],
            "live": health is not None and health.streaming(datetime.now(UTC)),
        }

    def segments(
        self, ctx: RequestContext, name: str, span: TimeRange
    ) -> tuple[list[Segment], list[Gap]]:
        span = span.limit(MAX_LIST)
        target = f"camera:{name}"
        with self.access.reading(ctx, Permission.CAMERAS_VIEW, "recording.list", target) as (
            session,
            details,
        ):
            camera_id = self._viewable(session, ctx, name).id
            details.update(span.to_dict())
        segments = self.index.between(camera_id, span.start, span.end)
        gaps = [g for g in self.index.gaps(camera_id, span.start) if g.start < span.end]
        return segments, gaps

    def export(
        self,
        ctx: RequestContext,
        name: str,
        span: TimeRange,
        scratch: Path,
        recipient: str | None = None,
        case: int | None = None,
        subject: tuple[int, ...] = (),
    ) -> Clip:
        """One MP4 of the range (whole segments), for ``recipient`` (who it is handed to);
        audited before any footage leaves, and again with the file's SHA-256, which the
        signed manifest that comes with it cites.

        Footage that a no-identification zone in force reaches leaves with every face
        blurred (rendered, at most MAX_BLURRED), unless the export is made for a ``case``
        whose approver acknowledged each of those zones. An export of the ``subject``
        (sightings of the camera) shows their face alone, every other face blurred
        (rendered, of the range itself: ``publishing.subject``)."""
        span = span.limit(MAX_EXPORT)
        target = f"camera:{name}"
        with self.access.reading(ctx, Permission.CAMERAS_VIEW, "recording.export", target) as (
            session,
            details,
        ):
            if recipient is not None:
                check_text(recipient, what="recipient", max_chars=MAX_RECIPIENT)
            camera_id = self._viewable(session, ctx, name).id
            found = self.index.between(camera_id, span.start, span.end)
            if not found:
                raise NotFound(f"nothing of {name} was recorded in that range", camera=name)
            whole = (found[0].start, found[-1].end)
            cleared = set() if case is None else zones_cleared(session, ctx, case, camera_id, whole)
            zones = [z.id for z in covering(session, [camera_id], *whole)]
            blurred = bool(set(zones) - cleared)
            if blurred and subject:
                raise InvalidInput(
                    f"{name} is in a no-identification zone then: its footage leaves with "
                    "every face blurred, the subject's too"
                )
            shown = None
            if subject:
                window = (span.start, span.end)
                shown = subject_faces(session, camera_id, name, subject, window, self.blur_rate[0])
            if (blurred or subject) and span.end - span.start > MAX_BLURRED:
                raise InvalidInput(
                    f"{name}'s footage leaves with faces blurred then: it is rendered, at "
                    f"most {MAX_BLURRED} at a time"
                )
            redaction = _redaction(blurred, shown)
            details.update(span.to_dict())
            details.update(segments=len(found), case=case, zones=zones, faces_blurred=blurred)
            details.update(redaction=redaction.to_dict())
            details["for"] = recipient
        with new_clip(scratch, "clip-") as path:
            if blurred or shown is not None:
                times = (span.start.timestamp(), span.end.timestamp())
                rendered = render_redacted(
                    self.files, scratch, found, times, path, self.blur_rate, shown=shown
                )
                start, end = rendered.span
            else:
                with ExitStack() as copies:
                    files = [copies.enter_context(self.files.opened(s, scratch)) for s in found]
                    export_mp4(list(zip(found, files, strict=True)), path)
                start, end = whole
            manifest = export_manifest(
                self.access, self.signing, ctx, name, start, end, len(found), path, recipient,
                redaction,
            )  # fmt: skip
        return Clip(path, start, end, len(found), manifest)

    def watch(self, ctx: RequestContext, name: str) -> Watching:
        """Start a live view. Audited as it opens; ``watched`` records how long it lasted
        once it closes."""
        target = f"camera:{name}"
        with self.access.reading(ctx, Permission.CAMERAS_VIEW, "camera.live", target) as (
            session,
            details,
        ):
            camera = self._viewable(session, ctx, name)
            feed = self._feed(camera)
            started = datetime.now(UTC)
            details["start"] = started.isoformat()
        return Watching(name, camera.id, feed, started)

    def _feed(self, camera: Camera) -> LiveFeed:
        """From this process's recorder, or relayed from the cluster node that records the
        camera (whose endpoint answers nodes only, never people)."""
        local = hub_feed(self.live, camera.id)
        if local is not None:
            return local
        if self.remote_live is not None and camera.node is not None:
            return self.remote_live(camera.node, camera.id)
        raise NotReady(f"{camera.name} is not streaming now", camera=camera.name)

    def watched(self, ctx: RequestContext, watching: Watching, sent_bytes: int) -> None:
        """A live view has closed: on record with the time range it showed."""
        start, end = watching.started, datetime.now(UTC)
        details = {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "seconds": round((end - start).total_seconds(), 3),
            "bytes": sent_bytes,
        }
        self.access.record_alone(ctx, "camera.live.end", f"camera:{watching.camera}", details)

    def hold(self, ctx: RequestContext, name: str, span: TimeRange, reason: str) -> Hold:
        target = f"camera:{name}"
        with (
            self.access.attempt(ctx, Permission.RECORDINGS_HOLD, "recording.hold", target),
            self.db.write() as session,
        ):
            check_text(reason, what="reason", max_chars=MAX_REASON)
            span.limit(MAX_HOLD)
            if span.end > datetime.now(UTC) + HOLD_AHEAD:
                raise InvalidInput(
                    f"a hold may reach at most {HOLD_AHEAD} past now; place another later",
                    field="end",
                )
            camera = self._viewable(session, ctx, name)
            row = EvidenceHold(
                camera_id=camera.id,
                start=span.start,
                end=span.end,
                reason=reason,
                created_by=ctx.principal.name,
                created_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            hold = _hold(row, name)
            self.access.record(session, ctx, "recording.hold", target, hold.to_dict())
            return hold

    def release(self, ctx: RequestContext, hold_id: int) -> Hold:
        target = f"hold:{hold_id}"
        with (
            self.access.attempt(ctx, Permission.RECORDINGS_HOLD, "recording.release", target),
            self.db.write() as session,
        ):
            row = session.get(EvidenceHold, hold_id)
            camera = None if row is None else session.get_one(Camera, row.camera_id)
            if (
                row is None
                or camera is None
                or row.released_at is not None
                or not member_of(session, ctx.principal, camera.group_id)
            ):
                raise NotFound(f"no active hold {hold_id}", hold=hold_id)
            if row.created_by != ctx.principal.name and not ctx.principal.can(
                Permission.HOLDS_RELEASE_ANY
            ):
                raise Forbidden(
                    f"{ctx.principal.name} may not release hold {hold_id}: {row.created_by} "
                    "placed it (a supervisor may release it)",
                    hold=hold_id,
                )
            row.released_at = datetime.now(UTC)
            hold = _hold(row, camera.name)
            self.access.record(session, ctx, "recording.release", target, hold.to_dict())
            return hold

    def holds(self, ctx: RequestContext) -> list[Hold]:
        with self.access.reading(ctx, Permission.RECORDINGS_HOLD, "recording.holds", "holds") as (
            session,
            details,
        ):
            rows = session.execute(
                select(EvidenceHold, Camera.name)
                .join(Camera, Camera.id == EvidenceHold.camera_id)
                .where(
                    EvidenceHold.released_at.is_(None),
                    in_groups_of(session, ctx.principal),
                )
                .order_by(EvidenceHold.id)
            )
            holds = [_hold(row, camera) for row, camera in rows]
            details["count"] = len(holds)
        return holds


def _hold(row: EvidenceHold, camera: str) -> Hold:
    return Hold(
        row.id,
        camera,
        row.start,
        row.end,
        row.reason,
        row.created_by,
        row.created_at,
        row.released_at,
    )


def _redaction(blurred: bool, shown: SubjectFaces | None) -> Redaction:
    if blurred:
        return Redaction(EVERY_FACE)
    if shown is not None:
        return Redaction(ALL_BUT_SUBJECT, shown.sightings)
    return Redaction(AS_RECORDED)
