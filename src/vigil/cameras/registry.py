"""The camera registry: add, list, show and remove cameras, with sites, regions and groups."""

from __future__ import annotations

import builtins
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.auth.access import Access
from vigil.auth.names import check_name
from vigil.auth.roles import Permission, RequestContext
from vigil.cameras.groups import member_of
from vigil.cameras.ingest import IngestTarget
from vigil.cameras.urls import StreamUrl, describe_credentials, parse_stream_url, shown
from vigil.cameras.vault import Vault
from vigil.config import NODE_PATTERN
from vigil.errors import Conflict, InvalidInput, NotFound
from vigil.recording.media import ANALYSIS
from vigil.store.models import (
    Camera,
    CameraGroup,
    EvidenceHold,
    Region,
    SegmentRow,
    SightingRow,
    Site,
)

MAX_ANALYSIS_FPS = 60.0
NODE_NAME = re.compile(NODE_PATTERN)


@dataclass(frozen=True, slots=True)
class CameraSpec:
    name: str
    url: str
    site: str | None = None
    region: str | None = None
    group: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    analysis_fps: float | None = None
    # The camera's sub-stream for face analysis (e.g. its 640x360 ONVIF profile); unset,
    # the main stream is analysed.
    analysis_url: str | None = None


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """What anyone allowed to see a camera may see: never its credentials."""

    id: int
    name: str
    url: str
    username: str | None
    site: str | None
    region: str | None
    group: str | None
    latitude: float | None
    longitude: float | None
    enabled: bool
    created_at: datetime
    analysis_fps: float | None
    analysis_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "username": self.username,
            "site": self.site,
            "region": self.region,
            "group": self.group,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "enabled": self.enabled,
            "created_at": self.created_at.isoformat(),
            "analysis_fps": self.analysis_fps,
            "analysis_url": self.analysis_url,
        }


def _check_position(latitude: float | None, longitude: float | None) -> None:
    if (latitude is None) != (longitude is None):
        raise InvalidInput("give both --lat and --lon, or neither")
    if latitude is None or longitude is None:
        return
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise InvalidInput("latitude must be between -90 and 90", field="latitude")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise InvalidInput("longitude must be between -180 and 180", field="longitude")


def _check_rate(fps: float | None) -> None:
    if fps is not None and not (math.isfinite(fps) and 0 < fps <= MAX_ANALYSIS_FPS):
        raise InvalidInput(
            f"the analysis rate must be above 0 and at most {MAX_ANALYSIS_FPS} frames per second",
            field="analysis_fps",
        )


def _named(session: Session, model: Any, name: str | None, what: str, **extra: Any) -> Any:
    """The row of that name, created when missing (sites, regions, groups appear on first use)."""
    if name is None:
        return None
    check_name(name, what=what)
    row = session.scalar(select(model).where(model.name == name))
    if row is None:
        row = model(name=name, **extra)
        session.add(row)
        session.flush()
    return row


def find_camera(session: Session, name: str) -> Camera:
    camera = session.scalar(select(Camera).where(Camera.name == name))
    if camera is None:
        raise NotFound(f"no camera named {name!r}", camera=name)
    return camera


def visible(session: Session, ctx: RequestContext, camera: Camera) -> bool:
    """Camera managers see the whole registry; everyone else the cameras of their groups."""
    return ctx.principal.can(Permission.CAMERAS_MANAGE) or member_of(
        session, ctx.principal, camera.group_id
    )


def find_visible(session: Session, ctx: RequestContext, name: str) -> Camera:
    """The camera, if the caller may know of it; others get the same answer as for none."""
    camera = find_camera(session, name)
    if not visible(session, ctx, camera):
        raise NotFound(f"no camera named {name!r}", camera=name)
    return camera


class CameraRegistry:
    def __init__(self, access: Access, vault: Vault, import_dir: Path) -> None:
        self.access = access
        self.db = access.db
        self.vault = vault
        self.import_dir = import_dir

    def _info(self, session: Session, camera: Camera, ctx: RequestContext) -> CameraInfo:
        """What the caller may see: the user name of the camera's login only if they manage
        cameras; a URL's query values never (they may be tokens)."""
        site = None if camera.site_id is None else session.get_one(Site, camera.site_id)
        region = (
            None if site is None or site.region_id is None else session.get(Region, site.region_id)
        )
        group = None if camera.group_id is None else session.get(CameraGroup, camera.group_id)
        secret = None if camera.credentials is None else self.vault.unseal(camera.credentials)
        return CameraInfo(
            id=camera.id,
            name=camera.name,
            url=shown(camera.url),
            username=(
                describe_credentials(secret)
                if ctx.principal.can(Permission.CAMERAS_MANAGE)
                else None
            ),
            site=None if site is None else site.name,
            region=None if region is None else region.name,
            group=None if group is None else group.name,
            latitude=camera.latitude,
            longitude=camera.longitude,
            enabled=camera.enabled,
            created_at=camera.created_at,
            analysis_fps=camera.analysis_fps,
            analysis_url=None if camera.analysis_url is None else shown(camera.analysis_url),
        )

    def add(self, ctx: RequestContext, spec: CameraSpec) -> CameraInfo:
        target = f"camera:{spec.name}"
        with self.access.attempt(ctx, Permission.CAMERAS_MANAGE, "camera.create", target):
            check_name(spec.name, what="camera name")
            stream = parse_stream_url(spec.url, self.import_dir)
            analysis = self._analysis_url(spec.analysis_url, stream)
            _check_position(spec.latitude, spec.longitude)
            _check_rate(spec.analysis_fps)
            with self.db.write() as session:
                if session.scalar(select(Camera.id).where(Camera.name == spec.name)):
                    raise Conflict(f"a camera named {spec.name!r} exists already", camera=spec.name)
                region = _named(session, Region, spec.region, "region")
                site = _named(session, Site, spec.site, "site", region_id=region and region.id)
                if site is not None and region is not None and site.region_id != region.id:
                    raise Conflict(f"site {spec.site!r} belongs to another region")
                group = _named(
                    session, CameraGroup, spec.group, "group", created_at=datetime.now(UTC)
                )
                camera = Camera(
                    name=spec.name,
                    url=stream.public,
                    credentials=None
                    if stream.credentials is None
                    else self.vault.seal(stream.credentials),
                    site_id=site and site.id,
                    group_id=group and group.id,
                    latitude=spec.latitude,
                    longitude=spec.longitude,
                    enabled=True,
                    created_at=datetime.now(UTC),
                    analysis_fps=spec.analysis_fps,
                    analysis_url=analysis,
                )
                session.add(camera)
                session.flush()
                info = self._info(session, camera, ctx)
                hidden = ("id", "created_at", "username")  # the login stays out of the log
                details = {k: v for k, v in info.to_dict().items() if k not in hidden}
                self.access.record(session, ctx, "camera.create", target, details)
                return info

    def _analysis_url(self, url: str | None, main: StreamUrl) -> str | None:
        """An analysis stream's URL, stored as the main one is: without its login, which must
        be the main stream's (one device, one login, kept once and sealed)."""
        if url is None:
            return None
        analysis = parse_stream_url(url, self.import_dir)
        if analysis.credentials not in (None, main.credentials):
            raise InvalidInput(
                "the analysis stream is the same camera: give its login on the main URL only",
                field="analysis_url",
            )
        if analysis.public == main.public:
            raise InvalidInput(
                "the analysis stream is the main stream; leave it out to analyse the main stream",
                field="analysis_url",
            )
        return analysis.public

    def list(self, ctx: RequestContext) -> list[CameraInfo]:
        reading = self.access.reading(ctx, Permission.CAMERAS_READ, "camera.list", "cameras")
        with reading as (session, details):
            cameras = [
                self._info(session, c, ctx)
                for c in session.scalars(select(Camera).order_by(Camera.name))
                if visible(session, ctx, c)
            ]
            details["count"] = len(cameras)
        return cameras

    def show(self, ctx: RequestContext, name: str) -> CameraInfo:
        target = f"camera:{name}"
        with self.access.reading(ctx, Permission.CAMERAS_READ, "camera.read", target) as (
            session,
            _,
        ):
            return self._info(session, find_visible(session, ctx, name), ctx)

    def remove(self, ctx: RequestContext, name: str) -> None:
        target = f"camera:{name}"
        with (
            self.access.attempt(ctx, Permission.CAMERAS_MANAGE, "camera.remove", target),
            self.db.write() as session,
        ):
            camera = find_camera(session, name)
            recorded = session.scalar(
                select(func.count(SegmentRow.id)).where(SegmentRow.camera_id == camera.id)
            )
            if recorded:
                raise Conflict(
                    f"{name} has {recorded} recorded segments; they stay until retention "
                    "removes them (disable the camera to stop recording)",
                    camera=name,
                )
            if session.scalar(select(EvidenceHold.id).where(EvidenceHold.camera_id == camera.id)):
                raise Conflict(f"{name} has evidence holds on record", camera=name)
            if session.scalar(select(SightingRow.id).where(SightingRow.camera_id == camera.id)):
                raise Conflict(f"{name} has sightings on record", camera=name)
            session.delete(camera)
            self.access.record(session, ctx, "camera.remove", target)

    def set_enabled(self, ctx: RequestContext, name: str, *, enabled: bool) -> CameraInfo:
        """Disabled cameras are kept with their recordings but not recorded."""
        action = "camera.enable" if enabled else "camera.disable"
        target = f"camera:{name}"
        with (
            self.access.attempt(ctx, Permission.CAMERAS_MANAGE, action, target),
            self.db.write() as session,
        ):
            camera = find_camera(session, name)
            camera.enabled = enabled
            self.access.record(session, ctx, action, target)
            return self._info(session, camera, ctx)

    def set_analysis_fps(self, ctx: RequestContext, name: str, fps: float | None) -> CameraInfo:
        """The rate face analysis samples this camera at; None: the configured default.

        Segments recorded from now on use it (and re-analysis); stored sightings stay.
        """
        target = f"camera:{name}"
        with (
            self.access.attempt(ctx, Permission.CAMERAS_MANAGE, "camera.analysis_rate", target),
            self.db.write() as session,
        ):
            _check_rate(fps)
            camera = find_camera(session, name)
            details = {"from": camera.analysis_fps, "to": fps}
            camera.analysis_fps = fps
            self.access.record(session, ctx, "camera.analysis_rate", target, details)
            return self._info(session, camera, ctx)

    def set_analysis_url(self, ctx: RequestContext, name: str, url: str | None) -> CameraInfo:
        """The camera's analysis stream (a sub-stream analysed in place of the recording);
        None: analyse the recording. The recorder starts or stops it at its next look at the
        cameras; segments recorded meanwhile are analysed from the recording."""
        target = f"camera:{name}"
        with (
            self.access.attempt(ctx, Permission.CAMERAS_MANAGE, "camera.analysis_stream", target),
            self.db.write() as session,
        ):
            camera = find_camera(session, name)
            analysis = self._analysis_url(url, self._stream_url(camera))
            details = {"from": camera.analysis_url, "to": analysis}
            camera.analysis_url = analysis
            self.access.record(session, ctx, "camera.analysis_stream", target, details)
            return self._info(session, camera, ctx)

    def assign(self, ctx: RequestContext, name: str, node: str | None) -> CameraInfo:
        """The cluster ingest node that records this camera (None: no node). The node picks
        it up at its next look at its cameras (every 10 s); the one it leaves stops."""
        target = f"camera:{name}"
        with (
            self.access.attempt(ctx, Permission.CAMERAS_MANAGE, "camera.assign", target),
            self.db.write() as session,
        ):
            if node is not None and not NODE_NAME.fullmatch(node):
                raise InvalidInput(f"{node!r} is not a node name (letters, digits, '_.-')")
            camera = find_camera(session, name)
            details = {"from": camera.node, "to": node}
            camera.node = node
            self.access.record(session, ctx, "camera.assign", target, details)
            return self._info(session, camera, ctx)

    def ingest_targets(self, node: str | None = None) -> builtins.list[IngestTarget]:
        """Enabled cameras with their full URLs, for the recorder only: never shown. A
        cluster's ingest node gets only those assigned to it."""
        query = select(Camera).where(Camera.enabled.is_(True))
        if node is not None:
            query = query.where(Camera.node == node)
        with self.db.read() as session:
            cameras = list(session.scalars(query))
        targets = [IngestTarget(c.id, c.name, self._stream_url(c).full()) for c in cameras]
        for c in cameras:
            if c.analysis_url is not None:
                url = self._stream_url(c, c.analysis_url).full()
                targets.append(IngestTarget(c.id, c.name, url, ANALYSIS))
        return targets

    def _stream_url(self, camera: Camera, public: str | None = None) -> StreamUrl:
        """The main stream's URL (or ``public``, its analysis stream's) with the login."""
        secret = None if camera.credentials is None else self.vault.unseal(camera.credentials)
        return StreamUrl(public=public or camera.url, credentials=secret)

    def stream(self, name: str) -> StreamUrl:
        """The URL with credentials, for the ingest supervisor only: never returned to people."""
        with self.db.read() as session:
            return self._stream_url(find_camera(session, name))
