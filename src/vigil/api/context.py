"""Who is calling: bearer token or session cookie (with CSRF), resolved once per request;
on the third-party routes, an organisation's key instead (and nothing else)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from vigil.app import Services
from vigil.auth.roles import ANONYMOUS, RequestContext
from vigil.errors import NotAuthenticated, TooManyAttempts, VigilError
from vigil.partners.grants import Grant

SESSION_COOKIE = "vigil_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def request_id_of(request: Request) -> str:
    rid: str = request.scope["state"]["request_id"]
    return rid


def anonymous_context(request: Request) -> RequestContext:
    return RequestContext(ANONYMOUS, request_id_of(request), client_of(request))


def authenticate(request: Request) -> RequestContext:
    """The caller's context; refusals are audited as denied, with the method and path."""
    services = services_of(request)
    ctx = anonymous_context(request)
    try:
        ctx = _resolve(request, services, ctx)
    except VigilError as exc:
        target = f"{request.method} {request.url.path}"
        raise services.access.deny(ctx, "api.request", target, exc) from None
    request.state.ctx = ctx
    return ctx


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
    return secret.strip()


@dataclass(frozen=True, slots=True)
class PartnerCall:
    """A third party's request: its key's grant, and the context it is audited under."""

    ctx: RequestContext
    grant: Grant


def authenticate_partner(request: Request) -> PartnerCall:
    """The organisation whose key signs the request (``Authorization: Bearer vigilorg_...``);
    a person's token or session is no key. Refusals are audited as denied."""
    services = services_of(request)
    ctx = anonymous_context(request)
    try:
        secret = _bearer(request)
        if secret is None:
            raise NotAuthenticated("an organisation key is required: 'Bearer <key>'")
        grant = services.partners.grants.authenticate(secret, ctx.client)
    except TooManyAttempts as exc:
        if not exc.fields.pop("first", True):
            raise  # a flood of refused keys is on record once per window, not per request
        raise services.access.deny(ctx, "api.request", _target(request), exc) from None
    except VigilError as exc:
        raise services.access.deny(ctx, "api.request", _target(request), exc) from None
    call = PartnerCall(RequestContext(grant.principal, ctx.request_id, ctx.client), grant)
    request.state.ctx = call.ctx
    return call


def _target(request: Request) -> str:
    return f"{request.method} {request.url.path}"


def _resolve(request: Request, services: Services, ctx: RequestContext) -> RequestContext:
    secret = _bearer(request)
    if secret is not None:
        principal = services.tokens.authenticate(secret)
        return RequestContext(principal, ctx.request_id, ctx.client)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise NotAuthenticated(
            "authentication required: send 'Authorization: Bearer <token>' or log in"
        )
    active = services.sessions.resolve(cookie)
    authed = RequestContext(active.principal, ctx.request_id, ctx.client)
    request.state.session_id = active.id
    if request.method not in SAFE_METHODS:
        try:
            active.check_csrf(request.headers.get(CSRF_HEADER))
        except VigilError as exc:
            target = f"{request.method} {request.url.path}"
            raise services.access.deny(authed, "api.request", target, exc) from None
    return authed


Caller = Annotated[RequestContext, Depends(authenticate)]
Partner = Annotated[PartnerCall, Depends(authenticate_partner)]
ServicesDep = Annotated[Services, Depends(services_of)]
