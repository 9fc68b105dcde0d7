"""The audit log for auditors: entries, signed heads, proofs and verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import (
    AuditEntryOut,
    AuditPage,
    ConsistencyProofOut,
    InclusionProofOut,
    PublicKey,
    TreeHeadOut,
    VerifyOut,
)
from vigil.audit.entry import Outcome
from vigil.audit.log import MAX_PAGE, EntryFilter
from vigil.audit.published import MONTH_PATTERN
from vigil.audit.signing import public_key_pem
from vigil.audit.transparency import Period, render_html, render_pdf
from vigil.auth.roles import Permission
from vigil.times import Moment

router = APIRouter(prefix="/audit", tags=["audit"])
Seq = Annotated[int, Query(ge=0, le=2**62)]
MAX_FILTER_CHARS = 512


def _us(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1_000_000)


@router.get("/entries", response_model=AuditPage)
def list_entries(
    ctx: Caller,
    services: ServicesDep,
    actor: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS)] = None,
    action: Annotated[str | None, Query(max_length=MAX_FILTER_CHARS)] = None,
    outcome: Literal["allowed", "denied"] | None = None,
    since: Annotated[Moment | None, Query(description="Entries at or after this time")] = None,
    until: Annotated[Moment | None, Query(description="Entries before this time")] = None,
    before: Annotated[
        int | None, Query(ge=0, le=2**62, description="Entries before this seq")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditPage:
    """Newest first; page with ``before`` = the previous page's ``next_before``."""
    flt = EntryFilter(
        actor=actor,
        action=action,
        outcome=None if outcome is None else Outcome(outcome),
        since_us=_us(since),
        until_us=_us(until),
        before_seq=before,
        limit=limit,
    )
    entries = services.audit_service.entries(ctx, flt)
    next_before = entries[-1].seq if len(entries) == limit and entries[-1].seq > 0 else None
    return AuditPage(
        entries=[AuditEntryOut.model_validate(e.to_dict()) for e in entries],
        next_before=next_before,
    )


@router.get("/entries/{seq}", response_model=AuditEntryOut)
def get_entry(
    seq: Annotated[int, Path(ge=0, le=2**62)], ctx: Caller, services: ServicesDep
) -> AuditEntryOut:
    return AuditEntryOut.model_validate(services.audit_service.entry(ctx, seq).to_dict())


@router.get("/head", response_model=TreeHeadOut)
def head(ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """The latest signed tree head, covering every entry so far; publish it elsewhere."""
    return services.audit_service.head(ctx).to_dict()


@router.get("/public-key", response_model=PublicKey)
def public_key(ctx: Caller, services: ServicesDep) -> PublicKey:
    """The key that verifies heads and proofs without access to Vigil."""
    services.access.require(ctx, Permission.AUDIT_VERIFY, "audit.public_key", "audit")
    return PublicKey(algorithm="Ed25519", pem=public_key_pem(services.audit.key.public_key))


@router.get("/proofs/inclusion", response_model=InclusionProofOut)
def inclusion_proof(
    seq: Seq,
    ctx: Caller,
    services: ServicesDep,
    size: Annotated[int | None, Query(ge=1, le=2**62, description="Default: latest")] = None,
) -> dict[str, Any]:
    return services.audit_service.inclusion(ctx, seq, size).to_dict()


@router.get("/proofs/consistency", response_model=ConsistencyProofOut)
def consistency_proof(old: Seq, new: Seq, ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    return services.audit_service.consistency(ctx, old, new).to_dict()


@router.get("/verify", response_model=VerifyOut)
def verify(ctx: Caller, services: ServicesDep) -> dict[str, Any]:
    """Recompute the whole log against its signed heads (slow on large logs)."""
    return services.audit_service.verify(ctx).to_dict()


@router.get(
    "/transparency",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def transparency(
    ctx: Caller,
    services: ServicesDep,
    start: Annotated[Moment, Query(description="ISO 8601 with a time zone")],
    end: Annotated[Moment, Query(description="ISO 8601 with a time zone, not included")],
    fmt: Annotated[Literal["json", "html", "pdf"], Query(alias="format")] = "json",
) -> Any:
    """The signed transparency report of the period: counts from the audit log, anchored
    to a signed tree head (``vigil transparency verify`` checks the signature of the JSON,
    which the HTML and PDF forms quote in full)."""
    report = services.transparency.report(ctx, Period(start, end))
    if fmt == "json":
        return report
    name = f"transparency-{start.date()}-{end.date()}.{fmt}"
    headers = {"Cache-Control": "no-store", "Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "html":
        return HTMLResponse(render_html(report, services.times), headers=headers)
    return Response(
        render_pdf(report, services.times), media_type="application/pdf", headers=headers
    )


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM, in the city's time zone")


class PublishedOut(BaseModel):
    month: str
    published_by: str
    published_at: datetime


@router.post(
    "/transparency/publications", response_model=PublishedOut, status_code=status.HTTP_201_CREATED
)
def publish_transparency(body: PublishIn, ctx: Caller, services: ServicesDep) -> PublishedOut:
    """Publish an ended month's signed transparency report for anyone (auditors); once."""
    published = services.transparency_reports.publish(ctx, body.month)
    return PublishedOut.model_validate(published.summary())
