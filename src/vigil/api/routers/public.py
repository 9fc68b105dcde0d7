"""The public path (no login): the public cameras and their redacted, delayed live video,
and the published transparency reports with the public key that verifies them.

Nothing here reaches a recording, a live camera, a sighting or anything a camera group
bounds: the cameras come from ``Publications.public_cameras`` (names and places only) and
the video from the public ``Broadcast``, whose only source is the face redactor's output. Each
client address is held to a few requests a minute and a few open streams (in memory only).
What each stream sent is counted per camera and day (``publishing.viewing``), nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel

from vigil.api.context import ServicesDep, client_of
from vigil.api.routers.cameras import CameraName
from vigil.api.routers.recordings import MP4
from vigil.audit.published import MONTH_PATTERN
from vigil.audit.signing import public_key_pem
from vigil.publishing.broadcast import BroadcastFeed
from vigil.publishing.viewing import count_viewing
from vigil.recording.fmp4 import media_seconds

router = APIRouter(prefix="/public", tags=["public"])


class PublicCameraOut(BaseModel):
    name: str
    latitude: float | None
    longitude: float | None
    live: str  # the path of its public stream


@router.get("/cameras", response_model=list[PublicCameraOut])
def public_cameras(request: Request, services: ServicesDep) -> list[PublicCameraOut]:
    """The cameras anyone may watch: their names and places."""
    services.public_limits.request(client_of(request))
    return [
        PublicCameraOut(
            name=c.name,
            latitude=c.latitude,
            longitude=c.longitude,
            live=f"{request.url.path}/{c.name}/live.mp4",
        )
        for c in services.publications.public_cameras()
    ]


@router.get("/cameras/{name}/live.mp4", response_class=StreamingResponse, responses=MP4)
async def public_live(
    name: CameraName, request: Request, services: ServicesDep
) -> StreamingResponse:
    """The public camera as an endless fragmented MP4: every face blurred, at most 720p,
    at least ``[publishing] delay_s`` (10 s or more) behind the camera."""
    client = client_of(request)
    services.public_limits.request(client)
    with ExitStack() as holding:  # the stream's slot is given back if watching fails
        holding.enter_context(services.public_limits.stream(client))
        camera = await asyncio.to_thread(services.publications.public_camera, name)
        feed = await services.broadcast.watch(camera.id, name)
        hold = holding.pop_all()  # from here on, the stream gives it back when it ends
    opened = datetime.now(UTC)

    def counted(seconds: float) -> None:
        count_viewing(services.db, camera.id, opened, seconds)

    return StreamingResponse(
        _follow(feed, hold, counted),
        media_type="video/mp4",
        headers={
            "Cache-Control": "no-store",
            "X-Vigil-Delay-S": f"{services.broadcast.settings.delay_s:g}",
        },
    )


async def _follow(
    feed: BroadcastFeed, hold: ExitStack, counted: Callable[[float], None]
) -> AsyncIterator[bytes]:
    """The feed's chunks; once it ends, the seconds of video it sent are counted."""
    seconds = 0.0
    try:
        async for chunk in feed.chunks():
            seconds += media_seconds(feed.init, chunk)
            yield chunk
    finally:
        feed.close()
        hold.close()
        await asyncio.to_thread(counted, seconds)


class PublishedReportOut(BaseModel):
    month: str
    published_at: datetime
    report: str  # the path of its signed JSON


Month = Annotated[str, Path(pattern=MONTH_PATTERN)]


@router.get("/transparency", response_model=list[PublishedReportOut])
def published_reports(request: Request, services: ServicesDep) -> list[PublishedReportOut]:
    """The published monthly transparency reports, the latest first."""
    services.public_limits.request(client_of(request))
    return [
        PublishedReportOut(
            month=p.month, published_at=p.published_at, report=f"{request.url.path}/{p.month}"
        )
        for p in services.transparency_reports.published()
    ]


@router.get("/transparency/key.pem", response_class=PlainTextResponse)
def transparency_key(request: Request, services: ServicesDep) -> PlainTextResponse:
    """Vigil's Ed25519 public key (PEM), which verifies every published report."""
    services.public_limits.request(client_of(request))
    return PlainTextResponse(public_key_pem(services.audit.key.public_key))


@router.get("/transparency/{month}", response_model=dict[str, Any])
def published_report(month: Month, request: Request, services: ServicesDep) -> Any:
    """A month's signed report, exactly as published ('vigil transparency verify')."""
    services.public_limits.request(client_of(request))
    report = services.transparency_reports.of_month(month).report
    name = f"transparency-{month}.json"
    return JSONResponse(report, headers={"Content-Disposition": f'inline; filename="{name}"'})
