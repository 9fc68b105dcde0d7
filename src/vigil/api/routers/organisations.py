"""Third parties, for the admins who manage them: organisations, their keys, their usage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import RequestBody
from vigil.auth.names import NAME_PATTERN
from vigil.partners.organisations import MAX_CAMERAS, MAX_QUOTA_S, KeySpec
from vigil.times import Moment

router = APIRouter(tags=["third parties"])
OrganisationName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]
KeyId = Annotated[int, Path(ge=1, le=2**62)]


class OrganisationCreate(RequestBody):
    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    title: str = Field(min_length=1, max_length=128, description="as its watermark writes it")
    purpose: str = Field(min_length=1, max_length=1000)


class KeyCreate(RequestBody):
    cameras: list[str] = Field(min_length=1, max_length=MAX_CAMERAS)
    valid_from: Moment
    valid_until: Moment
    quota_s: int = Field(ge=1, le=MAX_QUOTA_S, description="seconds of video, watched and exported")
    label: str = Field(default="", max_length=128)


class KeyOut(BaseModel):
    id: int
    organisation: str
    label: str
    cameras: list[str]
    valid_from: datetime
    valid_until: datetime
    quota_s: int
    used_s: float
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    status: str


class IssuedKey(BaseModel):
    key: KeyOut
    secret: str  # shown once


class OrganisationOut(BaseModel):
    id: int
    name: str
    title: str
    purpose: str
    created_by: str
    created_at: datetime
    keys: list[KeyOut]


@router.get("/organisations", response_model=list[OrganisationOut])
def list_organisations(ctx: Caller, services: ServicesDep) -> list[dict[str, Any]]:
    """Every organisation with its keys and what each has used."""
    return [o.to_dict() for o in services.partners.list(ctx)]


@router.post("/organisations", response_model=OrganisationOut, status_code=status.HTTP_201_CREATED)
def register(body: OrganisationCreate, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    return services.partners.register(ctx, body.name, body.title, body.purpose).to_dict()


@router.post(
    "/organisations/{name}/keys", response_model=IssuedKey, status_code=status.HTTP_201_CREATED
)
def issue_key(
    name: OrganisationName, body: KeyCreate, ctx: Caller, services: ServicesDep
) -> dict[str, Any]:
    """A key for the organisation: its cameras (of those the caller sees), its window and
    its quota. It works once a supervisor of its cameras' groups approves it. The secret is
    in this answer only."""
    spec = KeySpec(body.cameras, body.valid_from, body.valid_until, body.quota_s, body.label)
    info, secret = services.partners.issue(ctx, name, spec)
    return {"key": info.to_dict(), "secret": secret}


@router.post("/partner-keys/{key_id}/approve", response_model=KeyOut)
def approve_key(key_id: KeyId, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """Approve a key someone else issued (a supervisor of its cameras' groups): it works
    from now on."""
    return services.partners.approve(ctx, key_id).to_dict()


@router.post("/partner-keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: KeyId, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """Revoke a key (an admin, or a supervisor of its cameras' groups): its open streams
    end within seconds."""
    return services.partners.revoke(ctx, key_id).to_dict()


@router.get(
    "/organisations/{name}/usage",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}},
)
def usage(
    name: OrganisationName,
    ctx: Caller,
    services: ServicesDep,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Any:
    """What the organisation watched and exported in the month, per key, camera and kind."""
    report = services.metering.usage(ctx, name, month)
    if fmt == "json":
        return report.to_dict()
    return Response(
        report.to_csv(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="usage-{name}-{month}.csv"'},
    )
