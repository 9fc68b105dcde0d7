"""Recordings: camera status, segment lists, clip export, live view, evidence holds, groups."""

from __future__ import annotations

import asyncio
import base64
import json
import pathlib
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path, Query, Response, status
from fastapi.responses import FileResponse, StreamingResponse

from vigil.api.context import Caller, ServicesDep
from vigil.api.routers.cameras import CameraName
from vigil.api.schemas import (
    CameraGroupOut,
    CameraStatusOut,
    HoldCreate,
    HoldOut,
    RecordingsOut,
)
from vigil.auth.names import NAME_PATTERN
from vigil.recording.live import LiveFeed
from vigil.recording.service import TimeRange
from vigil.times import Moment

router = APIRouter(tags=["recordings"])
Start = Annotated[Moment, Query(description="ISO 8601 with a time zone")]
End = Annotated[Moment, Query(description="ISO 8601 with a time zone, after start")]
GroupName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]
UserName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]
MP4: dict[int | str, dict[str, Any]] = {
    200: {"content": {"video/mp4": {}}, "description": "MP4 video"}
}


@router.get("/cameras/{name}/status", response_model=CameraStatusOut)
def camera_status(name: CameraName, ctx: Caller, services: ServicesDep) -> CameraStatusOut:
    return CameraStatusOut.model_validate(services.recordings.status(ctx, name))


@router.get("/cameras/{name}/recordings", response_model=RecordingsOut)
def list_recordings(
    name: CameraName, start: Start, end: End, ctx: Caller, services: ServicesDep
) -> RecordingsOut:
    segments, gaps = services.recordings.segments(ctx, name, TimeRange(start, end))
    return RecordingsOut.model_validate(
        {"segments": [s.to_dict() for s in segments], "gaps": [g.to_dict() for g in gaps]}
    )


@router.get("/cameras/{name}/recording.mp4", response_class=FileResponse, responses=MP4)
def export_recording(
    name: CameraName,
    start: Start,
    end: End,
    ctx: Caller,
    services: ServicesDep,
    cleanup: BackgroundTasks,
    recipient: Annotated[str | None, Query(max_length=200, description="who it is for")] = None,
    case: Annotated[
        int | None,
        Query(ge=1, le=2**31, description="the case it is for (zones its approver acknowledged)"),
    ] = None,
    only_subject: Annotated[
        list[int] | None,
        Query(max_length=200, description="sightings whose person alone stays visible"),
    ] = None,
) -> FileResponse:
    """One MP4 of the range, from the keyframe that starts the first overlapping segment.
    Its signed manifest (``vigil export verify`` checks it) is in ``X-Vigil-Manifest``, as
    base64 of its JSON. Footage of a no-identification zone leaves with every face blurred
    unless it is for a case whose approver acknowledged that zone. With ``only_subject``
    (sightings of the camera), the range itself is rendered with every face but theirs
    blurred."""
    scratch = services.data_dir / "tmp"
    span = TimeRange(start, end)
    subject = tuple(only_subject or ())
    clip = services.recordings.export(ctx, name, span, scratch, recipient, case, subject)
    ends = {"X-Vigil-Start": clip.start.isoformat(), "X-Vigil-End": clip.end.isoformat()}
    return signed_clip(
        clip.path, f"{name}-{clip.start:%Y%m%dT%H%M%S}", clip.manifest, cleanup, ends
    )


def signed_clip(
    path: pathlib.Path,
    name: str,
    manifest: dict[str, Any],
    cleanup: BackgroundTasks,
    headers: dict[str, str],
) -> FileResponse:
    """An exported MP4 (deleted once sent) with its signed manifest in ``X-Vigil-Manifest``."""
    cleanup.add_task(path.unlink, missing_ok=True)
    signed = base64.b64encode(json.dumps(manifest).encode()).decode()
    return FileResponse(
        path,
        media_type="video/mp4",
        filename=f"{name}.mp4",
        headers={**headers, "X-Vigil-Manifest": signed, "Cache-Control": "no-store"},
    )


@router.get("/cameras/{name}/live.mp4", response_class=StreamingResponse, responses=MP4)
def live(name: CameraName, ctx: Caller, services: ServicesDep) -> StreamingResponse:
    """The camera now, as an endless fragmented MP4 that a <video> element plays; audited
    as it opens and, with its time range, as it closes."""
    watching = services.recordings.watch(ctx, name)

    def closed(sent_bytes: int) -> None:
        services.recordings.watched(ctx, watching, sent_bytes)

    return StreamingResponse(
        _follow(watching.feed, closed),
        media_type="video/mp4",
        headers={
            "Cache-Control": "no-store",
            "X-Vigil-Live-Start": f"{watching.feed.start:.3f}",
        },
    )


async def _follow(feed: LiveFeed, closed: Callable[[int], None]) -> AsyncIterator[bytes]:
    sent = 0
    try:
        async for chunk in feed.chunks():
            yield chunk
            sent += len(chunk)
    finally:
        # However the stream ends (the viewer left, the camera dropped, shutdown): the
        # record is written in a thread that finishes even if this task is cancelled.
        feed.close()
        await asyncio.shield(asyncio.to_thread(closed, sent))


@router.post("/cameras/{name}/holds", response_model=HoldOut, status_code=status.HTTP_201_CREATED)
def add_hold(name: CameraName, body: HoldCreate, ctx: Caller, services: ServicesDep) -> HoldOut:
    hold = services.recordings.hold(ctx, name, TimeRange(body.start, body.end), body.reason)
    return HoldOut.model_validate(hold.to_dict())


@router.get("/holds", response_model=list[HoldOut])
def list_holds(ctx: Caller, services: ServicesDep) -> list[HoldOut]:
    return [HoldOut.model_validate(h.to_dict()) for h in services.recordings.holds(ctx)]


@router.delete("/holds/{hold_id}", response_model=HoldOut)
def release_hold(
    hold_id: Annotated[int, Path(ge=1, le=2**62)], ctx: Caller, services: ServicesDep
) -> HoldOut:
    return HoldOut.model_validate(services.recordings.release(ctx, hold_id).to_dict())


@router.get("/camera-groups", response_model=list[CameraGroupOut])
def list_groups(ctx: Caller, services: ServicesDep) -> list[CameraGroupOut]:
    return [CameraGroupOut.model_validate(g.to_dict()) for g in services.groups.list(ctx)]


@router.put("/camera-groups/{group}/members/{user}", status_code=status.HTTP_204_NO_CONTENT)
def grant(group: GroupName, user: UserName, ctx: Caller, services: ServicesDep) -> Response:
    services.groups.grant(ctx, group, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/camera-groups/{group}/members/{user}", status_code=status.HTTP_204_NO_CONTENT)
def revoke(group: GroupName, user: UserName, ctx: Caller, services: ServicesDep) -> Response:
    services.groups.revoke(ctx, group, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
