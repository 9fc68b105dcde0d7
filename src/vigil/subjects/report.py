"""The answer to a subject request: what Vigil holds about the person, for them.

- the sightings the search found that are still held: when, where, and the face crop with
  every other face in it blurred (YuNet at 1x and 2x, as public video is redacted);
- how many watchlist entries name them, and on what legal basis, unless the approver
  recorded a restriction: then only that one applies;
- how many case searches returned them and how many of those sightings people confirmed,
  by the case's legal basis and month: never a case's reference, never who searched;
- the alerts raised on their sightings, and whether people confirmed or rejected each.

HTML, or PDF made from it, and JSON signed like exports (``sign_statement``), so that the
person can show that the answer is Vigil's and unchanged. Reading a report is audited.
"""

from __future__ import annotations

import base64
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from PIL import Image
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.analytics.frames import CROP_MARGIN
from vigil.audit.signing import SigningKey, sign_statement
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.documents import pdf_from_html, templates
from vigil.errors import Conflict, NotFound
from vigil.investigations.report import RenderedReport
from vigil.publishing.redaction import Box, FaceBoxes, Frame, Margins, blur_region, overlap
from vigil.store.models import (
    AlertRow,
    AlertSighting,
    Camera,
    CaseResult,
    CaseRow,
    CaseSearch,
    SightingRow,
    SubjectMatch,
    SubjectRequestRow,
    WatchlistEntry,
)
from vigil.subjects.requests import RequestInfo, subject_request, tally
from vigil.subjects.review import confirmed_only, ensure_found
from vigil.timetext import TimeText

Format = Literal["html", "pdf", "json"]
REPORT_CONTEXT = b"vigil subject report v1\n"
# A face in a crop overlapping the subject's own place by less than this is someone else's.
OWN_FACE_IOU = 0.3


@dataclass(frozen=True, slots=True)
class HeldSighting:
    id: int
    camera: str
    start: datetime
    end: datetime
    estimated_fmr: float
    crop: bytes | None  # others' faces blurred; None once erased
    kept: str | None  # why an erasure kept it

    def to_dict(self) -> dict[str, Any]:
        return {
            "sighting": self.id,
            "camera": self.camera,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "estimated_fmr": self.estimated_fmr,
            "face_crop_jpeg": self.crop_b64,
            "kept": self.kept,
        }

    @property
    def crop_b64(self) -> str | None:
        return None if self.crop is None else base64.b64encode(self.crop).decode("ascii")


@dataclass(frozen=True, slots=True)
class SubjectReport:
    request: RequestInfo
    generated_at: datetime
    generated_by: str
    sightings: list[HeldSighting]
    watchlist: dict[str, Any]  # {"restricted": True} or {"entries": n, "legal_bases": [...]}
    searches: list[dict[str, Any]]  # by legal basis and month
    alerts: list[dict[str, Any]]

    def statement(self) -> dict[str, Any]:
        """Everything the report says, as the fields of a signed statement."""
        return {
            "request": self.request.id,
            "reference": self.request.reference,
            "state": self.request.state,
            "requested_at": self.request.requested_at.isoformat(),
            "answered_at": (
                None if self.request.decided_at is None else self.request.decided_at.isoformat()
            ),
            "probes": self.request.probes,
            "sightings_searched": self.request.searched,
            "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "sightings": [s.to_dict() for s in self.sightings],
            "watchlist": self.watchlist,
            "case_searches": self.searches,
            "alerts": self.alerts,
        }


class SubjectReports:
    def __init__(self, access: Access, faces: FaceBoxes, key: SigningKey, times: TimeText) -> None:
        self.access = access
        self.db = access.db
        self.faces = faces
        self.key = key
        self.times = times

    def report(self, ctx: RequestContext, request_id: int, fmt: Format) -> RenderedReport:
        """The answer to an answered request, for those who handle requests; audited."""
        target = f"subject:{request_id}"
        with self.access.attempt(ctx, Permission.SUBJECTS_HANDLE, "subject.report", target):
            with self.db.read() as session:
                row = subject_request(session, request_id)
                if row.state not in ("answered", "erased"):
                    raise Conflict(f"subject request {request_id} is {row.state}: no answer yet")
                confirmed_only(session, request_id)
                report = SubjectReport(
                    RequestInfo.of(row, *tally(session, row.id)),
                    datetime.now(UTC),
                    ctx.principal.name,
                    [self._held(s) for s in _sightings(session, row.id)],
                    _watchlist(session, row),
                    _searches(session, row.id),
                    _alerts(session, row.id),
                )
            signed = sign_statement(self.key, REPORT_CONTEXT, report.statement())
            if fmt == "json":
                content, media_type = json.dumps(signed, indent=2).encode(), "application/json"
            else:
                html = render_html(report, signed["signature"], self.times)
                content, media_type = (
                    (html, "text/html; charset=utf-8")
                    if fmt == "html"
                    else (pdf_from_html(html, f"Subject request {request_id}"), "application/pdf")
                )
            details = {
                "request": request_id,
                "format": fmt,
                "sightings": [s.id for s in report.sightings],
                "bytes": len(content),
            }
            self.access.record_alone(ctx, "subject.report", target, details)
            return RenderedReport(content, media_type, f"subject-request-{request_id}.{fmt}")

    def crop(self, ctx: RequestContext, request_id: int, sighting_id: int) -> bytes:
        """A found sighting's face crop, every other face blurred, for its review (audited)."""
        target = f"subject:{request_id}"
        with self.access.reading(ctx, Permission.SUBJECTS_HANDLE, "subject.crop", target) as (
            session,
            details,
        ):
            ensure_found(session, request_id, sighting_id)
            crop = session.scalar(select(SightingRow.crop).where(SightingRow.id == sighting_id))
            if not crop:
                raise NotFound(f"sighting {sighting_id} holds no face crop any more")
            details["sighting"] = sighting_id
        return self.only_subject(crop)

    def _held(self, found: tuple[SubjectMatch, SightingRow, str]) -> HeldSighting:
        match, sighting, camera = found
        try:
            crop = self.only_subject(sighting.crop) if sighting.crop else None
        except OSError:  # an unreadable crop cannot be shown redacted: it is not shown
            crop = None
        return HeldSighting(
            sighting.id, camera, sighting.start, sighting.end, match.estimated_fmr, crop, match.kept
        )

    def only_subject(self, jpeg: bytes) -> bytes:
        """A sighting's face crop with every face that is not the sighting's own blurred."""
        rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).copy()
        found = others(self.faces, rgb)
        if not found:
            return jpeg
        margins = Margins()
        for box in found:
            blur_region(rgb, margins.grow(box, rgb.shape[1], rgb.shape[0]))
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, format="JPEG", quality=90)
        return out.getvalue()


def others(faces: FaceBoxes, rgb: Frame) -> list[Box]:
    """The faces in a sighting's crop that are not its own. The crop is the face's box
    grown by ``CROP_MARGIN`` on each side (cut at the frame's edge), so its own face fills
    the middle; a face found elsewhere, whole or cut by the crop's edge, is someone else's."""
    height, width = rgb.shape[:2]
    inset = CROP_MARGIN / (1 + 2 * CROP_MARGIN)
    own: Box = (inset * width, inset * height, (1 - inset) * width, (1 - inset) * height)
    return [box for box in faces.boxes(rgb) if overlap(box, own) < OWN_FACE_IOU]


def _sightings(session: Session, request_id: int) -> list[tuple[SubjectMatch, SightingRow, str]]:
    rows = session.execute(
        select(SubjectMatch, SightingRow, Camera.name)
        .join(SightingRow, SightingRow.id == SubjectMatch.sighting_id)
        .join(Camera, Camera.id == SightingRow.camera_id)
        .where(SubjectMatch.request_id == request_id, SubjectMatch.verdict == "confirmed")
        .order_by(SightingRow.start)
    )
    return [(m, s, name) for m, s, name in rows]


def _matched(request_id: int) -> Any:
    """The sightings a person confirmed as the requester's."""
    return select(SubjectMatch.sighting_id).where(
        SubjectMatch.request_id == request_id, SubjectMatch.verdict == "confirmed"
    )


def _watchlist(session: Session, row: SubjectRequestRow) -> dict[str, Any]:
    if row.restriction is not None:
        return {"restricted": True}
    ids = json.loads(row.watchlist)
    bases = session.scalars(select(WatchlistEntry.legal_basis).where(WatchlistEntry.id.in_(ids)))
    return {"restricted": False, "entries": len(ids), "legal_bases": sorted(set(bases))}


def _searches(session: Session, request_id: int) -> list[dict[str, Any]]:
    """Case searches that returned the person's sightings, by basis and month: counts only."""
    rows = session.execute(
        select(CaseRow.legal_basis, CaseSearch.started_at, CaseSearch.id, CaseResult.confirmed_by)
        .join(CaseSearch, CaseSearch.id == CaseResult.search_id)
        .join(CaseRow, CaseRow.id == CaseResult.case_id)
        .where(CaseResult.sighting_id.in_(_matched(request_id)))
    )
    searches: dict[tuple[str, str], set[int]] = defaultdict(set)
    confirmed: dict[tuple[str, str], int] = defaultdict(int)
    for basis, started, search_id, confirmed_by in rows:
        key = (basis, started.strftime("%Y-%m"))
        searches[key].add(search_id)
        confirmed[key] += confirmed_by is not None
    return [
        {"legal_basis": basis, "month": month, "searches": len(ids), "confirmed": confirmed[key]}
        for key, ids in sorted(searches.items())
        for basis, month in [key]
    ]


def _alerts(session: Session, request_id: int) -> list[dict[str, Any]]:
    matched = _matched(request_id)
    joined = select(AlertSighting.alert_id).where(AlertSighting.sighting_id.in_(matched))
    rows = session.execute(
        select(AlertRow.seen_at, Camera.name, AlertRow.state)
        .join(Camera, Camera.id == AlertRow.camera_id)
        .where(or_(AlertRow.sighting_id.in_(matched), AlertRow.id.in_(joined)))
        .order_by(AlertRow.seen_at)
    )
    return [
        {"seen_at": seen.isoformat(), "camera": camera, "state": state}
        for seen, camera, state in rows
    ]


def render_html(report: SubjectReport, signature: str, times: TimeText) -> bytes:
    shared = templates(times, "vigil.subjects", "vigil.investigations")  # + the reports' style
    page = shared.get_template("answer.html").render(report=report, signature=signature)
    return page.encode("utf-8")
