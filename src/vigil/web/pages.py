"""The web UI's pages: live wall, camera playback, alerts, watchlist, cases, audit, admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from vigil.analytics.pipeline import backlog
from vigil.api.context import client_of, services_of
from vigil.app import Services
from vigil.audit.chart import month_chart
from vigil.audit.log import EntryFilter
from vigil.audit.published import MONTH_PATTERN, PublishedReport
from vigil.auth.names import NAME_PATTERN
from vigil.auth.roles import Permission, RequestContext, Role, is_service_role
from vigil.cameras.registry import CameraInfo
from vigil.errors import NotFound
from vigil.recording.records import Segment
from vigil.recording.service import TimeRange
from vigil.web.citymap import MapCamera, Tiles, camera_map
from vigil.web.render import home_of, html, show, viewer

router = APIRouter(include_in_schema=False)
CameraName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]
CaseId = Annotated[int, Path(ge=1, le=2**31)]
EventId = Annotated[int, Path(ge=1, le=2**31)]
TIMELINE = timedelta(hours=1)
RUN_JOIN = timedelta(seconds=2)
LIVE_TILES = 6  # browsers hold about six streams per server at once


@router.get("/")
def home(request: Request) -> Response:
    ctx = viewer(request)
    return RedirectResponse("/login" if ctx is None else home_of(ctx), status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    return html(request, "login.html", viewer(request))


@router.get("/public")
def public_page(request: Request) -> Response:
    """The public cameras, for anyone: redacted, delayed video (no login, no audit)."""
    services = services_of(request)
    services.public_limits.request(client_of(request))
    cameras = services.publications.public_cameras()
    return html(
        request,
        "public.html",
        None,
        cameras=cameras,
        map=camera_map(
            [MapCamera(c.name, c.latitude, c.longitude) for c in cameras],
            "Where the public cameras are",
            _tiles(services),
        ),
        live_tiles=services.config.publishing.streams_per_client,
        delay_s=services.config.publishing.delay_s,
    )


def _wall(services: Services, ctx: RequestContext) -> dict[str, Any]:
    watchable = services.recordings.watchable(ctx)
    cameras = [c for c in services.cameras.list(ctx) if c.name in watchable]
    tiles = [(camera, services.recordings.status(ctx, camera.name)) for camera in cameras]
    shown = [_on_map(camera, status, watchable) for camera, status in tiles]
    waiting = backlog(services.segments)
    return {
        "tiles": tiles,
        "map": camera_map(shown, "Where the cameras of your groups are", _tiles(services)),
        "unplaced": [c.name for c in cameras if c.latitude is None or c.longitude is None],
        "live_tiles": LIVE_TILES,
        "backlog": waiting,
        "lag_s": waiting.lag_s(datetime.now(UTC)),
    }


def _tiles(services: Services) -> Tiles | None:
    """The deployment's tile server under the map, if it names one."""
    ui = services.config.ui
    return Tiles(ui.map_tiles, ui.map_attribution) if ui.map_tiles else None


def _on_map(camera: CameraInfo, status: dict[str, Any], watchable: set[str]) -> MapCamera:
    """A camera on the map: its health, and a link where the viewer may watch it."""
    health = status["health"]["state"] if status["health"] else "never recorded"
    where = f"{camera.site or 'no site'}, group {camera.group or 'none'}"
    href = f"/cameras/{camera.name}" if camera.name in watchable else None
    return MapCamera(camera.name, camera.latitude, camera.longitude, health, href, where)


@router.get("/cameras")
def wall(request: Request) -> Response:
    return show(request, "wall.html", _wall)


@router.get("/events")
def events(request: Request) -> Response:
    """The events of one's camera groups."""

    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        return {"events": services.events.list(ctx), "now": datetime.now(UTC)}

    return show(request, "events.html", build)


@router.get("/events/{event_id}")
def event_wall(request: Request, event_id: EventId) -> Response:
    """An event's wall: live tiles with their counts, the total, its peak, the chart."""

    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        event = services.events.show(ctx, event_id)
        names = {c["name"] for c in event["cameras"]}
        cameras = [c for c in services.cameras.list(ctx) if c.name in names]
        statuses = {c.name: services.recordings.status(ctx, c.name) for c in cameras}
        watchable = services.recordings.watchable(ctx)
        placed = [_on_map(c, statuses[c.name], watchable) for c in cameras]
        window = (datetime.fromisoformat(event["start"]), datetime.fromisoformat(event["end"]))
        return {
            "event": event,
            "window": window,
            "live": {name for name, status in statuses.items() if status["live"]},
            "live_tiles": LIVE_TILES,
            "map": camera_map(
                placed, f"Where the cameras of {event['name']} are", _tiles(services)
            ),
        }

    return show(request, "event.html", build)


@router.get("/zones")
def zones(request: Request) -> Response:
    """No-identification zones: proposed, in force, lifted; approve and lift them here."""

    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        proposing = ctx.principal.can(Permission.ZONES_PROPOSE)  # the form's choices
        return {
            "zones": services.zones.list(ctx),
            "groups": [g.name for g in services.groups.list(ctx)] if proposing else [],
            "events": [e.name for e in services.events.list(ctx)] if proposing else [],
        }

    return show(request, "zones.html", build)


@router.get("/cameras/{name}")
@router.get("/cameras/{name}/live")
def camera(request: Request, name: CameraName) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        info = services.cameras.show(ctx, name)
        now = datetime.now(UTC)
        span = TimeRange(now - TIMELINE, now)
        segments, gaps = services.recordings.segments(ctx, name, span)
        total = TIMELINE.total_seconds()

        def place(start: datetime, end: datetime | None) -> dict[str, float]:
            left = max(0.0, (start - span.start).total_seconds()) / total
            right = min(total, ((end or now) - span.start).total_seconds()) / total
            return {"left": round(left * 100, 3), "width": round(max(right - left, 0) * 100, 3)}

        return {
            "camera": info,
            "status": services.recordings.status(ctx, name),
            "span": span,
            "recorded": [
                place(start, end) | {"start": start, "end": end} for start, end in runs(segments)
            ],
            "gaps": [place(g.start, g.end) | {"gap": g} for g in gaps],
        }

    return show(request, "camera.html", build)


def runs(segments: list[Segment]) -> list[tuple[datetime, datetime]]:
    """Back-to-back segments as one recorded run (segments are seconds; the bar, an hour)."""
    merged: list[tuple[datetime, datetime]] = []
    for segment in segments:
        if merged and segment.start - merged[-1][1] <= RUN_JOIN:
            merged[-1] = (merged[-1][0], max(merged[-1][1], segment.end))
        else:
            merged.append((segment.start, segment.end))
    return merged


@router.get("/alerts")
def alerts(request: Request) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        found, rejected = services.alerts.list(ctx)
        return {"alerts": found, "rejected": rejected}

    return show(request, "alerts.html", build)


@router.get("/watchlist")
def watchlist(request: Request) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        return {"entries": services.watchlists.list(ctx), "now": datetime.now(UTC)}

    return show(request, "watchlist.html", build)


@router.get("/cases")
def cases(request: Request) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        listed = services.cases.list(ctx)
        cameras = services.cameras.list(ctx) if ctx.principal.can(Permission.CASES_OPEN) else []
        notices = services.notices.list(ctx) if ctx.principal.can(Permission.NOTICES_READ) else []
        return {"cases": listed, "cameras": cameras, "notices": notices, "now": datetime.now(UTC)}

    return show(request, "cases.html", build)


@router.get("/cases/{case_id}")
def case(request: Request, case_id: CaseId) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        info = services.cases.show(ctx, case_id)
        member = ctx.principal.name in info.members
        can_search = member and ctx.principal.can(Permission.CASES_SEARCH)
        results = services.search.results(ctx, case_id) if can_search else []
        return {
            "case": info,
            "member": member,
            "can_search": can_search,
            "results": results,
            "status": info.status(datetime.now(UTC)),
        }

    return show(request, "case.html", build)


@router.get("/subjects")
def subjects(request: Request) -> Response:
    """Subject requests: take one, decide on another person's, download the answer, erase."""

    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        requests = services.subjects.list(ctx)
        found = {
            r.id: services.subject_review.found(ctx, r.id)
            for r in requests
            if r.state == "answered"
            and r.unreviewed
            and ctx.principal.can(Permission.SUBJECTS_HANDLE)
        }
        return {"requests": requests, "found": found}

    return show(request, "subjects.html", build)


@router.get("/audit")
def audit(
    request: Request,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        flt = EntryFilter(actor=actor or None, action=action or None, limit=limit)
        entries = services.audit_service.entries(ctx, flt)
        report = services.audit_service.verify(ctx)
        head = report.latest_head
        return {
            "entries": entries,
            "report": report,
            "head_time": None if head is None else datetime.fromtimestamp(head.time_us / 1e6, UTC),
            "filters": {"actor": actor or "", "action": action or "", "limit": limit},
        }

    return show(request, "audit.html", build)


@router.get("/transparency")
def transparency(
    request: Request, month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None
) -> Response:
    """The published transparency reports, for anyone (as the public page): the latest
    month's (or ``month``'s), the archive, each count over the months, and how to verify.
    Auditors publish an ended month here."""
    services = services_of(request)
    services.public_limits.request(client_of(request))
    ctx = viewer(request)
    published = services.transparency_reports.published()
    shown = next((p for p in published if p.month == month), None) if month else None
    if month and shown is None:
        error = NotFound(f"no transparency report of {month} is published")
        return html(request, "error.html", ctx, error.http_status, error=error)
    months = [(p.month, p.report) for p in reversed(published)]
    can_publish = ctx is not None and ctx.principal.can(Permission.TRANSPARENCY_PUBLISH)
    return html(
        request,
        "transparency.html",
        ctx,
        path=request.url.path,
        published=published,
        shown=shown or (published[0] if published else None),
        chart=month_chart(months) if months else None,
        publishable=_publishable(services, published) if can_publish else [],
    )


def _publishable(services: Services, published: list[PublishedReport]) -> list[str]:
    """The last twelve ended months not published yet, the latest first."""
    done = {p.month for p in published}
    now = datetime.now(services.times.zone)
    year, month = now.year, now.month
    months = []
    for _ in range(12):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(f"{year:04d}-{month:02d}")
    return [m for m in months if m not in done]


@router.get("/admin")
def admin(request: Request) -> Response:
    def build(services: Services, ctx: RequestContext) -> dict[str, Any]:
        cameras = [(c, services.recordings.status(ctx, c.name)) for c in services.cameras.list(ctx)]
        watchable = services.recordings.watchable(ctx)
        return {
            "users": services.users.list(ctx),
            "tokens": services.tokens.list(ctx, "*"),  # every user's
            "cameras": cameras,
            "map": camera_map(
                [_on_map(c, status, watchable) for c, status in cameras],
                "Where every camera is",
                _tiles(services),
            ),
            "watchable": watchable,
            "groups": services.groups.list(ctx),
            "roles": [str(r) for r in Role],
            "service_roles": [r for r in Role if is_service_role(r)],
            "organisations": services.partners.list(ctx),
            "now": datetime.now(UTC),
            "month": f"{datetime.now(UTC):%Y-%m}",
        }

    return show(request, "admin.html", build)
