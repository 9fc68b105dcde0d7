"""Subject requests: a person on camera asks what is held about them (vigil.subjects).

Taken by a data-protection officer with the person's photos, approved by another person;
the answer is for the requester alone. None of these routes returns anyone's sightings
but the requester's, and none searches without an approved request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from vigil.api.context import Caller, ServicesDep
from vigil.api.routers.faces import read_upload
from vigil.api.schemas import RequestBody
from vigil.subjects.requests import MAX_TEXT, RequestInfo

router = APIRouter(tags=["subject requests"])
RequestId = Annotated[int, Path(ge=1, le=2**31)]
SightingId = Annotated[int, Path(ge=1, le=2**62)]


class SubjectRequestOut(BaseModel):
    id: int
    reference: str
    identity_checked_by: str
    state: str = Field(
        description="requested, rejected, comparing (approved: every camera's archive is "
        "being read), answered or erased"
    )
    requested_by: str
    requested_at: datetime
    probes: list[str] = Field(description="SHA-256 of the requester's photos")
    decided_by: str | None
    decided_at: datetime | None
    restricted: bool = Field(description="the approver recorded a legal restriction")
    sightings_searched: int | None
    sightings_found: int
    awaiting_review: int = Field(description="found sightings no person has judged yet")


class ApproveIn(RequestBody):
    restriction: str | None = Field(
        default=None,
        max_length=2000,
        description="A legal restriction of the watchlist part of the answer, with its grounds",
    )


class RejectIn(RequestBody):
    reason: str = Field(min_length=1, max_length=2000)


def _out(info: RequestInfo) -> SubjectRequestOut:
    return SubjectRequestOut.model_validate(info.to_dict())


@router.post(
    "/subject-requests", response_model=SubjectRequestOut, status_code=status.HTTP_201_CREATED
)
def open_request(
    photos: Annotated[list[UploadFile], File(description="1 to 5 photos of the requester")],
    reference: Annotated[str, Form(min_length=1, max_length=MAX_TEXT)],
    identity_checked_by: Annotated[
        str,
        Form(
            min_length=1,
            max_length=MAX_TEXT,
            description="Who checked the requester's identity, and how",
        ),
    ],
    ctx: Caller,
    services: ServicesDep,
) -> SubjectRequestOut:
    """Take a person's request; another person approves it before anything is searched."""
    files = [(p.filename or "photo", read_upload(p)) for p in photos]
    return _out(
        services.subjects.open(
            ctx, files, reference=reference, identity_checked_by=identity_checked_by
        )
    )


@router.get("/subject-requests", response_model=list[SubjectRequestOut])
def list_requests(ctx: Caller, services: ServicesDep) -> list[SubjectRequestOut]:
    return [_out(r) for r in services.subjects.list(ctx)]


@router.get("/subject-requests/{request_id}", response_model=SubjectRequestOut)
def show_request(request_id: RequestId, ctx: Caller, services: ServicesDep) -> SubjectRequestOut:
    return _out(services.subjects.show(ctx, request_id))


@router.post("/subject-requests/{request_id}/approve", response_model=SubjectRequestOut)
def approve(
    request_id: RequestId, ctx: Caller, services: ServicesDep, body: ApproveIn | None = None
) -> SubjectRequestOut:
    """Approve another person's request: every camera's sightings are compared with it
    now, in the background. Answered within 10 seconds, or returned as ``comparing``
    (at 10 million sightings the archive takes minutes to read): ask again later."""
    restriction = None if body is None else body.restriction
    return _out(services.subjects.approve(ctx, request_id, restriction=restriction))


@router.post("/subject-requests/{request_id}/reject", response_model=SubjectRequestOut)
def reject(
    request_id: RequestId, body: RejectIn, ctx: Caller, services: ServicesDep
) -> SubjectRequestOut:
    return _out(services.subjects.reject(ctx, request_id, body.reason))


class FoundOut(BaseModel):
    sighting: int
    camera: str
    start: datetime
    end: datetime
    estimated_fmr: float
    match: bool = Field(
        description="within the match point; false: beyond it, only possible (weaker "
        "evidence), for a person to judge against the requester"
    )
    verdict: str | None = Field(description="confirmed, rejected, or none yet")


class ReviewIn(RequestBody):
    confirmed: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        max_length=10_000,
        description="The found sightings that show the requester; every other is rejected",
    )


@router.get("/subject-requests/{request_id}/found", response_model=list[FoundOut])
def found(request_id: RequestId, ctx: Caller, services: ServicesDep) -> list[FoundOut]:
    """What the comparison found, for the DPO to judge before anything is answered."""
    return [
        FoundOut.model_validate(f.to_dict()) for f in services.subject_review.found(ctx, request_id)
    ]


@router.get(
    "/subject-requests/{request_id}/found/{sighting_id}/crop.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def found_crop(
    request_id: RequestId, sighting_id: SightingId, ctx: Caller, services: ServicesDep
) -> Response:
    """A found sighting's face, every other face blurred (audited)."""
    crop = services.subject_reports.crop(ctx, request_id, sighting_id)
    return Response(crop, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/subject-requests/{request_id}/review", response_model=list[FoundOut])
def review(
    request_id: RequestId, body: ReviewIn, ctx: Caller, services: ServicesDep
) -> list[FoundOut]:
    """Confirm the found sightings that show the requester; the others are rejected. Once."""
    judged = services.subject_review.review(ctx, request_id, body.confirmed)
    return [FoundOut.model_validate(f.to_dict()) for f in judged]


class ErasureOut(BaseModel):
    request: int
    erased: list[int] = Field(description="sightings whose face crop and descriptors went")
    kept: list[dict[str, Any]] = Field(description="sightings a legal basis keeps, and why")


@router.post("/subject-requests/{request_id}/erase", response_model=ErasureOut)
def erase(request_id: RequestId, ctx: Caller, services: ServicesDep) -> ErasureOut:
    """Erase the face crops and descriptors the answered request found, except those an
    evidence hold, an open case's confirmed results or a watchlist entry in force keeps."""
    return ErasureOut.model_validate(services.erasure.erase(ctx, request_id).to_dict())


@router.get(
    "/subject-requests/{request_id}/answer",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}, "application/json": {}}}},
)
def answer(
    request_id: RequestId,
    ctx: Caller,
    services: ServicesDep,
    fmt: Annotated[Literal["html", "pdf", "json"], Query(alias="format")] = "html",
) -> Response:
    """The answer for the requester: HTML, PDF or signed JSON (audited)."""
    rendered = services.subject_reports.report(ctx, request_id, fmt)
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{rendered.filename}"',
            "Cache-Control": "no-store",
        },
    )
