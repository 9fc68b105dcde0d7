"""Movement reports: where a case's subject was, from the sightings people confirmed.

Confirmed sightings become visits (sightings at one camera less than a minute apart are
one visit), visits become places (a site, or a camera without one) ranked by visits and
time seen, with first and last seen, a plot of the places by their coordinates (no map
tiles: nothing leaves the machine), face thumbnails and links to the clips. HTML, or PDF
made from that HTML; each report is audited with the EU AI Act Art. 12(3) fields.
"""

from __future__ import annotations

import base64
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

from sqlalchemy import select

from vigil.analytics.matching import OperatingPoint
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.documents import pdf_from_html, templates
from vigil.errors import Conflict
from vigil.investigations.cases import CaseInfo, case_info, searched_database
from vigil.investigations.membership import case_data
from vigil.investigations.results import Candidate, best_per_sighting, candidates
from vigil.recording.media import MAIN
from vigil.store.models import CaseResult, CaseSearch, SightingRow
from vigil.timetext import TimeText

if TYPE_CHECKING:  # matplotlib loads in 0.7 s: only where a plot is drawn
    from matplotlib.figure import Figure

Format = Literal["html", "pdf"]
VISIT_GAP = timedelta(seconds=60)
CLIP_MARGIN = timedelta(seconds=5)


@dataclass
class Visit:
    camera: str
    site: str | None
    latitude: float | None
    longitude: float | None
    start: datetime
    end: datetime
    similarity: float
    sightings: list[int]
    crop: bytes | None = None
    analysis_stream: bool = False  # a face of it was seen on the camera's analysis stream

    @property
    def crop_b64(self) -> str | None:
        return None if self.crop is None else base64.b64encode(self.crop).decode("ascii")

    def clip_url(self, case: int) -> str:
        """The visit's clip for the case: its sightings' person alone visible."""
        query = urlencode(
            {
                "start": (self.start - CLIP_MARGIN).isoformat(),
                "end": (self.end + CLIP_MARGIN).isoformat(),
                "case": case,
                "only_subject": self.sightings,
            },
            doseq=True,
        )
        return f"/api/v1/cameras/{self.camera}/recording.mp4?{query}"


@dataclass
class Place:
    name: str
    cameras: list[str]
    latitude: float | None
    longitude: float | None
    visits: int
    dwell_s: float


@dataclass(frozen=True, slots=True)
class MovementReport:
    case: CaseInfo
    generated_at: datetime
    generated_by: str
    visits: list[Visit]
    places: list[Place]
    verified_by: list[str]
    probes: list[str]

    @property
    def first_seen(self) -> datetime:
        return self.visits[0].start

    @property
    def last_seen(self) -> datetime:
        return self.visits[-1].end


def visits_of(confirmed: list[Candidate]) -> list[Visit]:
    """Sightings in time order, those at one camera less than VISIT_GAP apart merged."""
    visits: list[Visit] = []
    for c in sorted(confirmed, key=lambda c: c.start):
        last = visits[-1] if visits else None
        if last is not None and last.camera == c.camera and c.start - last.end < VISIT_GAP:
            last.end = max(last.end, c.end)
            last.similarity = max(last.similarity, c.similarity)
            last.sightings.append(c.sighting_id)
            last.analysis_stream = last.analysis_stream or c.stream != MAIN
            continue
        visits.append(
            Visit(
                c.camera,
                c.site,
                c.latitude,
                c.longitude,
                c.start,
                c.end,
                c.similarity,
                [c.sighting_id],
                analysis_stream=c.stream != MAIN,
            )
        )
    return visits


def places_of(visits: list[Visit]) -> list[Place]:
    """Places ranked by visits, then by time seen there."""
    places: dict[str, Place] = {}
    for visit in visits:
        name = visit.site or visit.camera
        place = places.setdefault(name, Place(name, [], None, None, 0, 0.0))
        if visit.camera not in place.cameras:
            place.cameras.append(visit.camera)
        if place.latitude is None and visit.latitude is not None:
            place.latitude, place.longitude = visit.latitude, visit.longitude
        place.visits += 1
        place.dwell_s += (visit.end - visit.start).total_seconds()
    return sorted(places.values(), key=lambda p: (-p.visits, -p.dwell_s, p.name))


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def plot(report: MovementReport) -> Figure:
    """The places by coordinates, sized by visits, joined in the order they were visited."""
    from matplotlib.figure import Figure  # noqa: PLC0415 - see TYPE_CHECKING above

    figure = Figure(figsize=(7.5, 5.5))
    axes = figure.add_subplot()
    placed = {
        p.name: (p.longitude, p.latitude, p.visits)
        for p in report.places
        if p.longitude is not None and p.latitude is not None
    }
    path = [placed[v.site or v.camera] for v in report.visits if (v.site or v.camera) in placed]
    if path:
        axes.plot(
            [x for x, _, _ in path], [y for _, y, _ in path], color="#999", linewidth=1, zorder=1
        )
    for name, (x, y, visits) in placed.items():
        axes.scatter(x, y, s=60 + 40 * visits, color="#b03a2e", zorder=2)
        axes.annotate(
            f"{name} ({visits})", (x, y), textcoords="offset points", xytext=(8, 6), fontsize=9
        )
    if not placed:
        axes.text(
            0.5,
            0.5,
            "no place in this report has coordinates",
            ha="center",
            transform=axes.transAxes,
        )
    if placed:  # degrees of longitude shrink away from the equator
        middle = sum(y for _, y, _ in placed.values()) / len(placed)
        axes.set_aspect(1 / max(math.cos(math.radians(middle)), 0.1), adjustable="datalim")
    axes.ticklabel_format(useOffset=False, style="plain")
    axes.set_xlabel("longitude")
    axes.set_ylabel("latitude")
    axes.set_title("Places seen (number of visits), joined in time order")
    axes.margins(0.2)
    figure.tight_layout()
    return figure


def render_html(report: MovementReport, times: TimeText) -> bytes:
    environment = templates(times, "vigil.investigations")
    environment.filters["duration"] = _duration
    from matplotlib import rc_context  # noqa: PLC0415 - see TYPE_CHECKING above

    svg = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):  # text stays text, in the PDF too
        plot(report).savefig(svg, format="svg", metadata={"Date": None})  # no ISO stamp
    svg_text = svg.getvalue()
    svg_text = svg_text[svg_text.index("<svg") :]  # inline: no XML prolog
    page = environment.get_template("report.html").render(
        case=report.case, report=report, plot_svg=svg_text
    )
    return page.encode("utf-8")


def render_pdf(report: MovementReport, times: TimeText) -> bytes:
    """The HTML report, laid out for print: the same caveat, places, map and timeline."""
    return pdf_from_html(render_html(report, times), f"Movement report, case {report.case.id}")


RENDERERS: dict[str, tuple[Callable[[MovementReport, TimeText], bytes], str]] = {
    "html": (render_html, "text/html; charset=utf-8"),
    "pdf": (render_pdf, "application/pdf"),
}


@dataclass(frozen=True, slots=True)
class RenderedReport:
    content: bytes
    media_type: str
    filename: str


class ReportService:
    def __init__(self, access: Access, point: OperatingPoint, times: TimeText) -> None:
        self.access = access
        self.db = access.db
        self.point = point
        self.times = times

    def report(self, ctx: RequestContext, case_id: int, fmt: Format) -> RenderedReport:
        """The case's movement report for one of its members; audited (Art. 12(3))."""
        target = f"case:{case_id}"
        with self.access.attempt(ctx, Permission.CASES_SEARCH, "case.report", target):
            started = datetime.now(UTC)
            render, media_type = RENDERERS[fmt]
            with self.db.read() as session:
                row = case_data(session, ctx, case_id)
                if row.state in ("rejected", "sealed"):
                    raise Conflict(f"case {case_id} is {row.state}: it has no results")
                case = case_info(session, row)
                results = candidates(session, best_per_sighting(session, case_id), self.point)
            confirmed = [c for c in results if c.confirmed_by]
            if not confirmed:
                raise Conflict(f"case {case_id} has no confirmed sightings to report yet")
            report = self._build(ctx, case, confirmed, started)
            content = render(report, self.times)
            details = {
                "case": case_id,
                "reference": case.reference,
                "format": fmt,
                "use_start": started.isoformat(),
                "use_end": datetime.now(UTC).isoformat(),
                "database": searched_database(case.cameras, case.start, case.end),
                "probes": report.probes,
                "sightings": [s for v in report.visits for s in v.sightings],
                "verified_by": report.verified_by,
                "bytes": len(content),
            }
            self.access.record_alone(ctx, "case.report", target, details)
            stamp = started.strftime("%Y%m%dT%H%M%S")
            return RenderedReport(content, media_type, f"case-{case_id}-{stamp}.{fmt}")

    def _build(
        self, ctx: RequestContext, case: CaseInfo, confirmed: list[Candidate], now: datetime
    ) -> MovementReport:
        ids = [c.sighting_id for c in confirmed]
        with self.db.read() as session:
            query = select(SightingRow.id, SightingRow.crop).where(SightingRow.id.in_(ids))
            crops: dict[int, bytes | None] = dict(session.execute(query).all())
            probes: set[str] = set()
            for search_probes, probe in session.execute(
                select(CaseSearch.probes, CaseResult.probe)
                .join(CaseResult, CaseResult.search_id == CaseSearch.id)
                .where(CaseResult.case_id == case.id, CaseResult.sighting_id.in_(ids))
            ):
                probes.add(json.loads(search_probes)[probe])
        visits = visits_of(confirmed)
        for visit in visits:
            visit.crop = next((crops[s] for s in visit.sightings if crops.get(s)), None)
        return MovementReport(
            case=case,
            generated_at=now,
            generated_by=ctx.principal.name,
            visits=visits,
            places=places_of(visits),
            verified_by=sorted({c.confirmed_by for c in confirmed if c.confirmed_by}),
            probes=sorted(probes),
        )
