"""What the case routes take and answer: cases, their zones, searches, results, notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.api.schemas import RequestBody
from vigil.auth.names import NAME_PATTERN
from vigil.times import Moment

CaseState = Literal["requested", "approved", "rejected", "closed", "sealed"]


class CaseCreate(RequestBody):
    subject: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    reference: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=2000)
    cameras: list[str] = Field(default=[], max_length=1000, description="Scope: cameras...")
    groups: list[str] = Field(default=[], max_length=100, description="...or camera groups")
    start: Moment = Field(alias="from", description="Scope start, with a time zone")
    end: Moment = Field(alias="to", description="Scope end, with a time zone")
    expires_at: Moment
    urgent: bool = Field(default=False, description="Searchable before approval; sealed in 48 h")
    imports: bool = Field(default=False, description="Files may be imported as its evidence")


class CaseApproveIn(RequestBody):
    zones: list[int] = Field(
        default=[],
        max_length=100,
        description="No-identification zones reaching the scope (the case lists them) "
        "whose footage its exports may show unblurred",
    )


class CaseZoneOut(BaseModel):
    id: int
    group: str
    event: str | None
    start: datetime
    end: datetime | None
    reason: str


class CaseOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    subject: str
    legal_basis: str
    reference: str
    purpose: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    cameras: list[str]
    groups: list[str]
    expires_at: datetime
    urgent: bool
    state: CaseState
    status: Literal["requested", "approved", "rejected", "closed", "sealed", "expired"]
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    members: list[str]
    imports: bool
    zones: list[CaseZoneOut]
    zones_seen: list[int]


class CaseMemberIn(RequestBody):
    user: str = Field(pattern=NAME_PATTERN, max_length=64)


class CandidateOut(BaseModel):
    sighting_id: int
    camera: str
    site: str | None
    start: datetime
    end: datetime
    similarity: float
    distance: float
    estimated_fmr: float | None = Field(
        description="Calibrated chance that a different person comes this close"
    )
    match: bool = Field(description="Within the operating point")
    probe: int = Field(description="Which of the search's photos it is nearest to")
    confirmed_by: str | None
    face_stored: bool = Field(description="Its face crop is kept (crop.jpg answers)")
    weak_probe: bool = Field(
        description="Found with a photo below the reference quality bar (low_quality)"
    )


class SearchOut(BaseModel):
    search_id: int
    case: int
    probes: list[str] = Field(description="SHA-256 of the photos searched with")
    weak_probe: bool = Field(description="A photo below the reference quality bar was used")
    sightings_searched: int
    results: list[CandidateOut]


class ConfirmIn(RequestBody):
    sighting_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(min_length=1, max_length=500)


class NoticeOut(BaseModel):
    id: int
    kind: str
    user: str
    case_id: int | None
    message: str
    created_at: datetime
