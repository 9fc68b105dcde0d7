"""Server-rendered pages: who is looking, what they may do, and the template for it.

Pages read through the same services as the API, as the signed-in person (session cookie),
so every page view is in the audit log like any other read; every action on a page is a
call to the API (``static/vigil.js`` adds the CSRF token), audited there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment

from vigil.api.context import authenticate, services_of
from vigil.app import Services
from vigil.auth.roles import Permission, RequestContext, Role
from vigil.documents import templates
from vigil.errors import VigilError
from vigil.faces.calibration import odds
from vigil.timetext import TimeText


@dataclass(frozen=True, slots=True)
class NavItem:
    href: str
    label: str
    needs: tuple[Permission, ...]  # any of them


NAV = (
    NavItem("/cameras", "Live wall", (Permission.CAMERAS_VIEW,)),
    NavItem("/events", "Events", (Permission.CAMERAS_VIEW,)),
    NavItem("/alerts", "Alerts", (Permission.ALERTS_REVIEW,)),
    NavItem("/watchlist", "Watchlist", (Permission.WATCHLIST_READ,)),
    NavItem("/cases", "Cases", (Permission.CASES_OPEN, Permission.CASES_APPROVE)),
    NavItem(
        "/subjects",
        "Subject requests",
        (Permission.SUBJECTS_HANDLE, Permission.SUBJECTS_APPROVE),
    ),
    NavItem("/audit", "Audit", (Permission.AUDIT_READ,)),
    NavItem("/transparency", "Transparency", ()),  # published: anyone's
    NavItem(
        "/zones",
        "Zones",
        (Permission.ZONES_PROPOSE, Permission.ZONES_APPROVE, Permission.AUDIT_READ),
    ),
    NavItem("/admin", "Admin", (Permission.USERS_MANAGE, Permission.CAMERAS_MANAGE)),
)


def allowed(ctx: RequestContext, item: NavItem) -> bool:
    """Whether the item is in the person's menu (one that needs nothing: everyone's)."""
    return not item.needs or any(ctx.principal.can(p) for p in item.needs)


ROLE_HOME = {
    Role.OPERATOR: "/cameras",
    Role.VIEWER: "/cameras",
    Role.INVESTIGATOR: "/cases",
    Role.SUPERVISOR: "/cases",
    Role.AUDITOR: "/audit",
    Role.ADMIN: "/admin",
    Role.DPO: "/subjects",
}


def home_of(ctx: RequestContext) -> str:
    """Where a person lands after signing in: the page their role works from."""
    role = ctx.principal.role
    return "/login" if role is None else ROLE_HOME[role]


@cache
def environment(times: TimeText) -> Environment:
    env = templates(times, "vigil.web", "vigil.audit")  # + the report's counts
    env.filters["odds"] = odds
    env.globals["Permission"] = Permission
    return env


def viewer(request: Request) -> RequestContext | None:
    """The signed-in person, or None (an expired or missing session: sign in again)."""
    try:
        return authenticate(request)
    except VigilError:  # not signed in, or a session that ended or expired
        return None


def html(
    request: Request,
    template: str,
    ctx: RequestContext | None,
    http_status: int = 200,
    **data: Any,
) -> HTMLResponse:
    """The page, times in the city's zone (named on the page: ``zone``)."""
    nav = [] if ctx is None else [item for item in NAV if allowed(ctx, item)]
    times = services_of(request).times
    page = (
        environment(times)
        .get_template(template)
        .render(
            me=ctx,
            nav=nav,
            can=(lambda p: ctx is not None and ctx.principal.can(p)),
            zone=times.name,
            **data,
        )
    )
    return HTMLResponse(page, status_code=http_status, headers={"Cache-Control": "no-store"})


def show(
    request: Request,
    template: str,
    build: Callable[[Services, RequestContext], Mapping[str, Any]],
) -> Response:
    """The page for the signed-in person; the sign-in page for anyone else.

    A refusal or bad input from a service becomes an error page with its status.
    """
    ctx = viewer(request)
    if ctx is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    try:
        data = build(services_of(request), ctx)
    except VigilError as exc:
        return html(request, "error.html", ctx, exc.http_status, error=exc)
    return html(request, template, ctx, path=request.url.path, **data)
