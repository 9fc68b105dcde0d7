"""Cases, search by photo inside them, confirmations, movement reports, and notices.

There is no route that lists sightings or identities at a place and time: every search
needs a probe photo and an approved case (DESIGN.md: no bulk identification).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status

from vigil.api.case_schemas import (
    CandidateOut,
    CaseApproveIn,
    CaseCreate,
    CaseMemberIn,
    CaseOut,
    ConfirmIn,
    NoticeOut,
    SearchOut,
)
from vigil.api.context import Caller, ServicesDep
from vigil.api.routers.faces import read_upload
from vigil.investigations.cases import CaseInfo, CaseSpec
from vigil.investigations.search import MAX_LIMIT

router = APIRouter(tags=["cases and search"])
CaseId = Annotated[int, Path(ge=1, le=2**31)]
SightingId = Annotated[int, Path(ge=1, le=2**62)]


def _out(info: CaseInfo) -> CaseOut:
    return CaseOut.model_validate(info.to_dict())


@router.post("/cases", response_model=CaseOut, status_code=status.HTTP_201_CREATED)
def open_case(body: CaseCreate, ctx: Caller, services: ServicesDep) -> CaseOut:
    """Open a case; it can be searched once a supervisor who is not you approves it."""
    spec = CaseSpec(
        subject=body.subject,
        legal_basis=body.legal_basis,
        reference=body.reference,
        purpose=body.purpose,
        start=body.start,
        end=body.end,
        expires=body.expires_at,
        cameras=body.cameras,
        groups=body.groups,
        urgent=body.urgent,
        imports=body.imports,
    )
    return _out(services.cases.open(ctx, spec))


@router.get("/cases", response_model=list[CaseOut])
def list_cases(ctx: Caller, services: ServicesDep) -> list[CaseOut]:
    """Your cases; supervisors see every case's record (not its results)."""
    return [_out(c) for c in services.cases.list(ctx)]


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: CaseId, ctx: Caller, services: ServicesDep) -> CaseOut:
    return _out(services.cases.show(ctx, case_id))


@router.post("/cases/{case_id}/approve", response_model=CaseOut)
def approve(
    case_id: CaseId, ctx: Caller, services: ServicesDep, body: CaseApproveIn | None = None
) -> CaseOut:
    """Approve someone else's case, naming the no-identification zones of its scope (the
    case lists them) whose footage its exports may show unblurred."""
    return _out(services.cases.approve(ctx, case_id, [] if body is None else body.zones))


@router.post("/cases/{case_id}/reject", response_model=CaseOut)
def reject(case_id: CaseId, ctx: Caller, services: ServicesDep) -> CaseOut:
    return _out(services.cases.reject(ctx, case_id))


@router.post("/cases/{case_id}/close", response_model=CaseOut)
def close(case_id: CaseId, ctx: Caller, services: ServicesDep) -> CaseOut:
    return _out(services.cases.close(ctx, case_id))


@router.post("/cases/{case_id}/members", response_model=CaseOut)
def add_member(case_id: CaseId, body: CaseMemberIn, ctx: Caller, services: ServicesDep) -> CaseOut:
    return _out(services.cases.add_member(ctx, case_id, body.user))


@router.post("/cases/{case_id}/searches", response_model=SearchOut)
def search(
    case_id: CaseId,
    photos: Annotated[list[UploadFile], File(description="1 to 5 photos of the person")],
    ctx: Caller,
    services: ServicesDep,
    limit: Annotated[int, Form(ge=1, le=MAX_LIMIT)] = 50,
    low_quality: Annotated[
        bool,
        Form(
            description="Use a photo below the reference quality bar; the search and its "
            "results are marked as made from a weak probe (audited)"
        ),
    ] = False,
) -> SearchOut:
    """Search the case's scope by photo; audited and counted against your daily quota."""
    files = [(p.filename or "photo", read_upload(p)) for p in photos]
    result = services.search.search(ctx, case_id, files, limit=limit, low_quality=low_quality)
    return SearchOut.model_validate(result.to_dict())


@router.get("/cases/{case_id}/results", response_model=list[CandidateOut])
def results(case_id: CaseId, ctx: Caller, services: ServicesDep) -> list[CandidateOut]:
    """The case's candidates so far, best first, one per sighting (members only)."""
    return [CandidateOut.model_validate(c.to_dict()) for c in services.search.results(ctx, case_id)]


@router.post("/cases/{case_id}/confirmations", response_model=list[CandidateOut])
def confirm(
    case_id: CaseId, body: ConfirmIn, ctx: Caller, services: ServicesDep
) -> list[CandidateOut]:
    """Confirm results as the subject; the movement report is made of confirmed ones."""
    found = services.search.confirm(ctx, case_id, body.sighting_ids)
    return [CandidateOut.model_validate(c.to_dict()) for c in found]


@router.get(
    "/cases/{case_id}/results/{sighting_id}/crop.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def crop(case_id: CaseId, sighting_id: SightingId, ctx: Caller, services: ServicesDep) -> Response:
    """The face crop of one of the case's results (members only; audited)."""
    data = services.search.crop(ctx, case_id, sighting_id)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get(
    "/cases/{case_id}/report",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def report(
    case_id: CaseId,
    ctx: Caller,
    services: ServicesDep,
    fmt: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html",
) -> Response:
    """The movement report of the case's confirmed sightings (audited)."""
    rendered = services.reports.report(ctx, case_id, fmt)
    disposition = f'attachment; filename="{rendered.filename}"'
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@router.get("/notices", response_model=list[NoticeOut])
def notices(
    ctx: Caller,
    services: ServicesDep,
    after: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> list[NoticeOut]:
    """Quota hits and unusual use of search, oldest first (supervisors and auditors)."""
    return [NoticeOut.model_validate(n.to_dict()) for n in services.notices.list(ctx, after=after)]
