"""Making cameras public: an admin proposes, a supervisor approves, either withdraws."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from vigil.api.context import Caller, ServicesDep
from vigil.api.routers.cameras import CameraName
from vigil.api.schemas import RequestBody

router = APIRouter(tags=["publishing"])
PublicationId = Annotated[int, Path(ge=1, le=2**62)]


class PublicationCreate(RequestBody):
    reason: str = Field(min_length=1, max_length=500)


class PublicationOut(BaseModel):
    id: int
    camera: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    status: str


@router.get("/publications", response_model=list[PublicationOut])
def list_publications(ctx: Caller, services: ServicesDep) -> list[PublicationOut]:
    """Proposed, public and withdrawn cameras (of the caller's camera groups)."""
    return [PublicationOut.model_validate(p.to_dict()) for p in services.publications.list(ctx)]


@router.post(
    "/cameras/{name}/publication",
    response_model=PublicationOut,
    status_code=status.HTTP_201_CREATED,
)
def propose(
    name: CameraName, body: PublicationCreate, ctx: Caller, services: ServicesDep
) -> PublicationOut:
    """Propose the camera for public broadcast; it is public once a supervisor approves."""
    info = services.publications.propose(ctx, name, body.reason)
    return PublicationOut.model_validate(info.to_dict())


@router.post("/publications/{publication_id}/approve", response_model=PublicationOut)
def approve(publication_id: PublicationId, ctx: Caller, services: ServicesDep) -> PublicationOut:
    info = services.publications.approve(ctx, publication_id)
    return PublicationOut.model_validate(info.to_dict())


@router.post("/publications/{publication_id}/withdraw", response_model=PublicationOut)
def withdraw(publication_id: PublicationId, ctx: Caller, services: ServicesDep) -> PublicationOut:
    """Take the camera off the public path now; its open public streams end."""
    info = services.publications.withdraw(ctx, publication_id)
    return PublicationOut.model_validate(info.to_dict())
