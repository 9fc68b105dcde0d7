"""Events (counts, limits, occupancy alerts) and no-identification zones."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import Field, model_validator

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import RequestBody
from vigil.auth.names import NAME_PATTERN
from vigil.crowds.events import EventSpec
from vigil.times import Moment

router = APIRouter(tags=["crowds"])
EventId = Annotated[int, Path(ge=1, le=2**62)]
ZoneId = Annotated[int, Path(ge=1, le=2**62)]


class EventCreate(RequestBody):
    name: str = Field(min_length=1, max_length=128)
    group: str = Field(pattern=NAME_PATTERN, max_length=64)
    start: Moment
    end: Moment
    limits: dict[str, int] = Field(default_factory=dict, description="camera: people")
    total_limit: int | None = Field(default=None, ge=1, le=1_000_000)


class ZoneCreate(RequestBody):
    """A camera group from ``start`` (to ``end``, or until lifted), or an event's group over
    its window: one or the other."""

    reason: str = Field(min_length=1, max_length=500)
    group: str | None = Field(default=None, pattern=NAME_PATTERN, max_length=64)
    event: str | None = Field(default=None, max_length=128)
    start: Moment | None = None
    end: Moment | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ZoneCreate:
        if self.event is not None and (self.group, self.start, self.end) != (None, None, None):
            raise ValueError("name an event, or a group and its period: not both")
        if self.event is None and (self.group is None or self.start is None):
            raise ValueError("name a camera group and when the zone starts, or an event")
        return self


@router.get("/events", response_model=list[dict[str, Any]])
def list_events(ctx: Caller, services: ServicesDep) -> list[dict[str, Any]]:
    """Events of the caller's camera groups."""
    return [e.to_dict() for e in services.events.list(ctx)]


@router.post("/events", response_model=dict[str, Any], status_code=status.HTTP_201_CREATED)
def create_event(body: EventCreate, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    spec = EventSpec(body.name, body.group, body.start, body.end, body.limits, body.total_limit)
    return services.events.create(ctx, spec).to_dict()


@router.get("/events/{event_id}", response_model=dict[str, Any])
def show_event(event_id: EventId, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """The event now and over time: each camera's count and limit, the total and its peak,
    the series the charts draw, and the occupancy alerts (places and numbers only)."""
    return services.events.show(ctx, event_id)


@router.get("/no-identification", response_model=list[dict[str, Any]])
def list_zones(ctx: Caller, services: ServicesDep) -> list[dict[str, Any]]:
    return [z.to_dict() for z in services.zones.list(ctx)]


@router.post(
    "/no-identification", response_model=dict[str, Any], status_code=status.HTTP_201_CREATED
)
def propose_zone(body: ZoneCreate, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """Propose marking a camera group over a period (no end: until lifted), or an event,
    "no identification"; it holds once a supervisor of that group approves it."""
    zone = services.zones.propose(
        ctx, body.reason, group=body.group, start=body.start, end=body.end, event=body.event
    )
    return zone.to_dict()


@router.post("/no-identification/{zone_id}/approve", response_model=dict[str, Any])
def approve_zone(zone_id: ZoneId, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    return services.zones.approve(ctx, zone_id).to_dict()


@router.post("/no-identification/{zone_id}/lift", response_model=dict[str, Any])
def propose_lift(zone_id: ZoneId, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """Propose lifting the zone; a supervisor must approve it."""
    return services.zones.propose_lift(ctx, zone_id).to_dict()


@router.post("/no-identification/{zone_id}/approve-lift", response_model=dict[str, Any])
def approve_lift(zone_id: ZoneId, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    return services.zones.approve_lift(ctx, zone_id).to_dict()
