"""Request and response bodies of the API; requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vigil.auth.names import NAME_PATTERN, TEXT_PATTERN
from vigil.auth.passwords import MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS
from vigil.auth.roles import Role
from vigil.auth.tokens import MAX_LABEL_CHARS, MAX_TOKEN_DAYS
from vigil.cameras.urls import MAX_URL_CHARS
from vigil.times import Moment


class RequestBody(BaseModel):
    """What a caller sends: no field unknown, and JSON types as JSON means them: ``true`` is
    no number, a number no boolean, and a number no time (times are ``Moment``s, bounded
    and with a time zone). An integral number such as ``180.0`` is an integer, as JSON
    Schema says."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_types(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key not in data or data[key] is None:
                continue
            kinds, value = _kinds(field.annotation), data[key]
            if isinstance(value, bool) and kinds & {int, float} and bool not in kinds:
                raise ValueError(f"{key}: true or false is not a number")
            if bool in kinds and not isinstance(value, bool):
                raise ValueError(f"{key}: a boolean is true or false")
        return data


def _kinds(annotation: Any) -> set[Any]:
    """The plain types a field's annotation allows (``int | None``: int and NoneType)."""
    if get_origin(annotation) in (Union, UnionType):
        return set().union(*(_kinds(a) for a in get_args(annotation)))
    return {annotation}


class Problem(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    problems: list[Problem] | None = None
    retry_after_s: int | None = None
    model_config = ConfigDict(extra="allow")


class ErrorResponse(BaseModel):
    error: ErrorDetail
    request_id: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class LoginRequest(RequestBody):
    username: str = Field(min_length=1, max_length=128, pattern=TEXT_PATTERN)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS)


class LoginResponse(BaseModel):
    user: str
    role: Role
    csrf_token: str = Field(description="Send back in the X-CSRF-Token header on unsafe requests")
    expires_at: datetime


class UserOut(BaseModel):
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool


class UserCreate(RequestBody):
    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    role: Role
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_CHARS)


class TokenOut(BaseModel):
    id: int
    user: str
    label: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked: bool
    last_used_at: datetime | None


class TokenCreate(RequestBody):
    user: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        max_length=64,
        description="Default: yourself; someone else only if a service account (admin, "
        "auditor or viewer role)",
    )
    expires_days: int | None = Field(default=None, ge=1, le=MAX_TOKEN_DAYS)
    label: str = Field(default="", max_length=MAX_LABEL_CHARS, pattern=TEXT_PATTERN)


class TokenCreated(BaseModel):
    token: TokenOut
    secret: str = Field(description="Shown once; send as 'Authorization: Bearer <secret>'")


class AuditEntryOut(BaseModel):
    seq: int
    time: datetime
    actor: str
    action: str
    target: str
    outcome: Literal["allowed", "denied"]
    request_id: str
    details: Any


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as 'before' for the next, older page")


class TreeHeadOut(BaseModel):
    size: int
    root: str
    timestamp_us: int
    time: datetime
    signature: str


class PublicKey(BaseModel):
    algorithm: Literal["Ed25519"]
    pem: str


class InclusionProofOut(BaseModel):
    type: Literal["inclusion"]
    index: int
    entry: AuditEntryOut
    entry_bytes: str
    leaf_hash: str
    path: list[str]
    head: TreeHeadOut


class ConsistencyProofOut(BaseModel):
    type: Literal["consistency"]
    old: TreeHeadOut
    new: TreeHeadOut
    path: list[str]


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    signed_heads: int
    covered_by_signed_head: int
    first_bad_entry: int | None
    problems: list[str]
    latest_head: TreeHeadOut | None


class FaceBox(BaseModel):
    left: int
    top: int
    right: int
    bottom: int


class FaceQuality(BaseModel):
    face_px: int
    sharpness: float
    frontalness: float


class FaceOut(BaseModel):
    box: FaceBox
    score: float
    landmarks: list[list[float]] = Field(description="Five (x, y) points: eyes, then nose")
    quality: FaceQuality
    usable: bool = Field(description="Good enough to compare (size, sharpness, frontalness)")


class FacesOut(BaseModel):
    faces: list[FaceOut]


class FaceComparisonOut(BaseModel):
    distance: float
    similarity: float
    threshold: float
    same_person: bool
    a: FaceOut
    b: FaceOut


class CameraCreate(RequestBody):
    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    url: str = Field(
        min_length=1, max_length=MAX_URL_CHARS, description="Credentials in it are kept secret"
    )
    site: str | None = Field(default=None, pattern=NAME_PATTERN, max_length=64)
    region: str | None = Field(default=None, pattern=NAME_PATTERN, max_length=64)
    group: str | None = Field(default=None, pattern=NAME_PATTERN, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    analysis_fps: float | None = Field(
        default=None, gt=0, le=60, description="Face analysis sampling rate; empty: default"
    )
    analysis_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="The camera's sub-stream, recorded for face analysis alone (no login: the "
        "main URL's is used); empty: the main stream is analysed",
    )


class CameraOut(BaseModel):
    id: int
    name: str
    url: str = Field(description="Without credentials")
    username: str | None
    site: str | None
    region: str | None
    group: str | None
    latitude: float | None
    longitude: float | None
    enabled: bool
    created_at: datetime
    analysis_fps: float | None
    analysis_url: str | None = Field(description="Without credentials")


class CameraPatch(RequestBody):
    enabled: bool | None = Field(
        default=None, description="Disabled cameras keep their recordings, are not recorded"
    )
    analysis_fps: float | None = Field(
        default=None, gt=0, le=60, description="Face analysis sampling rate; null: the default"
    )
    analysis_url: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_URL_CHARS,
        description="The camera's sub-stream, analysed instead of the recording (no login: the "
        "main URL's is used); null: the recording is analysed",
    )


class HealthOut(BaseModel):
    state: Literal["connecting", "online", "offline", "disk_full", "stopped"]
    last_frame_at: datetime | None
    fps: float
    bitrate_bps: float
    reconnects: int
    error: str | None
    updated_at: datetime


class CoverageOut(BaseModel):
    segments: int
    first: datetime | None
    last: datetime | None
    seconds: float
    bytes: int


class GapOut(BaseModel):
    start: datetime
    end: datetime | None = Field(description="Empty while the gap lasts")
    reason: str


class CameraStatusOut(BaseModel):
    health: HealthOut | None = Field(description="Empty until a recorder has run")
    coverage: CoverageOut
    gaps: list[GapOut]
    live: bool


class SegmentOut(BaseModel):
    id: int
    start: datetime
    end: datetime
    seconds: float
    bytes: int
    sha256: str


class RecordingsOut(BaseModel):
    segments: list[SegmentOut]
    gaps: list[GapOut]


class HoldCreate(RequestBody):
    start: Moment
    end: Moment
    reason: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN)


class HoldOut(BaseModel):
    id: int
    camera: str
    start: datetime
    end: datetime
    reason: str
    created_by: str
    created_at: datetime
    released_at: datetime | None


class CameraGroupOut(BaseModel):
    name: str
    cameras: list[str]
    members: list[str]


class WatchlistEntryOut(BaseModel):
    id: int
    label: str
    legal_basis: str
    reference: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    expires_at: datetime
    ended_at: datetime | None
    photos: int
    status: Literal["awaiting approval", "active", "expired", "ended"]


class AlertOut(BaseModel):
    id: int
    entry_id: int
    label: str
    camera: str
    group: str | None = Field(default=None, description="The camera's group")
    sighting_id: int | None
    seen_at: datetime
    last_seen_at: datetime = Field(description="End of the latest sighting merged into it")
    sightings: int = Field(description="Sightings of this appearance: the first and merged")
    similarity: float
    distance: float
    estimated_fmr: float | None = Field(
        description="Calibrated chance that a different person comes this close"
    )
    state: Literal["pending", "confirmed", "actionable", "rejected"]
    confirmed_by: str | None
    second_by: str | None
    rejected_by: str | None


class AlertsOut(BaseModel):
    alerts: list[AlertOut]
    rejected_total: int = Field(description="False matches rejected so far, in all")
