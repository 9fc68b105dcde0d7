"""The third-party routes: reached with an organisation's key only, within its grant.

A key reaches the cameras it names, inside its window, up to its quota. What it gets is the
organisation's own rendering of a camera: faces blurred, its watermark drawn in, delayed
like the public picture; every second of it metered. Nothing here reaches unredacted
video, a sighting, an alert or a camera the key does not name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel

from vigil.api.context import Partner, ServicesDep
from vigil.api.routers.cameras import CameraName
from vigil.api.routers.recordings import MP4, signed_clip
from vigil.recording.service import TimeRange
from vigil.times import Moment

router = APIRouter(prefix="/partner", tags=["third parties"])


class GrantOut(BaseModel):
    organisation: str
    key: int
    cameras: list[str]
    valid_from: datetime
    valid_until: datetime
    quota_s: int
    used_s: float
    left_s: float
    delay_s: float  # how far behind the camera its live picture is


@router.get("/grant", response_model=GrantOut)
def grant(call: Partner, services: ServicesDep) -> GrantOut:
    """What this key reaches: its cameras, its window, its quota and what is left of it."""
    g = call.grant
    return GrantOut(
        organisation=g.organisation,
        key=g.key_id,
        cameras=list(g.cameras),
        valid_from=g.valid_from,
        valid_until=g.valid_until,
        quota_s=g.quota_s,
        used_s=round(g.used_s, 3),
        left_s=round(g.left_s, 3),
        delay_s=services.partner_video.settings.delay_s,
    )


@router.get("/cameras/{name}/live.mp4", response_class=StreamingResponse, responses=MP4)
async def partner_live(name: CameraName, call: Partner, services: ServicesDep) -> StreamingResponse:
    """The camera as an endless fragmented MP4: faces blurred, the organisation's watermark
    drawn in, at least ``[publishing] delay_s`` behind. Every second sent is metered; the
    stream ends within seconds once the key is revoked, expires or uses up its quota."""
    chunks = await services.partner_video.watch(call.ctx, call.grant, name)
    headers = {
        "Cache-Control": "no-store",
        "X-Vigil-Delay-S": f"{services.partner_video.settings.delay_s:g}",
    }
    return StreamingResponse(chunks, media_type="video/mp4", headers=headers)


@router.get("/cameras/{name}/recording.mp4", response_class=FileResponse, responses=MP4)
def partner_export(
    name: CameraName,
    start: Annotated[Moment, Query(description="ISO 8601 with a time zone")],
    end: Annotated[Moment, Query(description="ISO 8601 with a time zone, after start")],
    call: Partner,
    services: ServicesDep,
    cleanup: BackgroundTasks,
) -> FileResponse:
    """The range (inside the key's window, at most two minutes) as one MP4, redacted and
    watermarked like the live picture; metered, with its signed manifest in
    ``X-Vigil-Manifest`` (base64 of its JSON; ``vigil export verify`` checks it)."""
    clip = services.partner_video.export(call.ctx, call.grant, name, TimeRange(start, end))
    seconds = {"X-Vigil-Seconds": f"{clip.seconds:.3f}"}
    return signed_clip(
        clip.path, f"{name}-{clip.start:%Y%m%dT%H%M%S}", clip.manifest, cleanup, seconds
    )
