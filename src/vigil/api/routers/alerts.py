"""Watchlist entries (proposed, approved by another person) and alert review."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from vigil.api.context import Caller, ServicesDep
from vigil.api.routers.faces import read_upload
from vigil.api.schemas import AlertOut, AlertsOut, WatchlistEntryOut
from vigil.app import Services
from vigil.auth.roles import Principal
from vigil.times import Moment

router = APIRouter(tags=["watchlists and alerts"])
EntryId = Annotated[int, Path(ge=1, le=2**31)]
AlertId = Annotated[int, Path(ge=1, le=2**31)]
Text = Annotated[str, Form(min_length=1, max_length=500)]
EVENTS_POLL_S = 1.0
KEEPALIVE_S = 15.0


@router.get("/watchlist", response_model=list[WatchlistEntryOut])
def list_entries(ctx: Caller, services: ServicesDep) -> list[WatchlistEntryOut]:
    return [WatchlistEntryOut.model_validate(e.to_dict()) for e in services.watchlists.list(ctx)]


@router.post("/watchlist", response_model=WatchlistEntryOut, status_code=status.HTTP_201_CREATED)
def propose(
    label: Text,
    legal_basis: Text,
    reference: Text,
    expires_at: Annotated[Moment, Form(description="ISO 8601 with a time zone")],
    photos: Annotated[list[UploadFile], File(description="1 to 10 reference photos")],
    ctx: Caller,
    services: ServicesDep,
) -> WatchlistEntryOut:
    """Propose an entry; it matches nothing until a supervisor who is not you approves it."""
    files = [(p.filename or "photo", read_upload(p)) for p in photos]
    info = services.watchlists.propose(
        ctx, label, files, basis=legal_basis, reference=reference, expires=expires_at
    )
    return WatchlistEntryOut.model_validate(info.to_dict())


@router.post("/watchlist/{entry_id}/approve", response_model=WatchlistEntryOut)
def approve(entry_id: EntryId, ctx: Caller, services: ServicesDep) -> WatchlistEntryOut:
    return WatchlistEntryOut.model_validate(services.watchlists.approve(ctx, entry_id).to_dict())


@router.post("/watchlist/{entry_id}/end", response_model=WatchlistEntryOut)
def end(entry_id: EntryId, ctx: Caller, services: ServicesDep) -> WatchlistEntryOut:
    return WatchlistEntryOut.model_validate(services.watchlists.end(ctx, entry_id).to_dict())


@router.get("/alerts", response_model=AlertsOut)
def list_alerts(
    ctx: Caller,
    services: ServicesDep,
    state: Annotated[str | None, Query(pattern="^(pending|confirmed|actionable|rejected)$")] = None,
) -> AlertsOut:
    alerts, rejected = services.alerts.list(ctx, state)
    return AlertsOut(
        alerts=[AlertOut.model_validate(a.to_dict()) for a in alerts], rejected_total=rejected
    )


@router.post("/alerts/{alert_id}/confirm", response_model=AlertOut)
def confirm(alert_id: AlertId, ctx: Caller, services: ServicesDep) -> AlertOut:
    return AlertOut.model_validate(services.alerts.confirm(ctx, alert_id).to_dict())


@router.post("/alerts/{alert_id}/reject", response_model=AlertOut)
def reject(alert_id: AlertId, ctx: Caller, services: ServicesDep) -> AlertOut:
    return AlertOut.model_validate(services.alerts.reject(ctx, alert_id).to_dict())


@router.get(
    "/alerts/{alert_id}/{which}.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def alert_image(
    alert_id: AlertId,
    which: Literal["sighting", "reference"],
    ctx: Caller,
    services: ServicesDep,
) -> Response:
    """The face seen (``sighting``) or the entry's reference face, side by side for review."""
    data = services.alerts.image(ctx, alert_id, which)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/alerts/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
)
def alert_events(request: Request, ctx: Caller, services: ServicesDep) -> StreamingResponse:
    """New alerts as server-sent events (``event: alert``, JSON data), as they are raised;
    occupancy alerts of the caller's events too (``event: occupancy``: a place and a number)."""
    newest = services.alerts.watch(ctx)
    return StreamingResponse(
        _events(request, services, (newest, services.events.newest_occupancy()), ctx.principal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, services: Services, after: tuple[int, int], follower: Principal
) -> AsyncIterator[str]:
    yield ": connected\n\n"
    quiet = 0.0
    faces, places = after
    while not await request.is_disconnected():
        fresh = await asyncio.to_thread(services.alerts.since, faces, follower)
        for alert in fresh:
            faces = alert.id
            yield f"id: {alert.id}\nevent: alert\ndata: {json.dumps(alert.to_dict())}\n\n"
        over = await asyncio.to_thread(services.events.occupancy_since, places, follower)
        for occupancy in over:
            places = occupancy.id
            yield f"event: occupancy\ndata: {json.dumps(occupancy.to_dict())}\n\n"
        quiet = 0.0 if fresh or over else quiet + EVENTS_POLL_S
        if quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keepalive\n\n"
        await asyncio.sleep(EVENTS_POLL_S)
