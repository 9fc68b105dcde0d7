"""Login (public), logout and the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from vigil.api.context import (
    SESSION_COOKIE,
    Caller,
    ServicesDep,
    anonymous_context,
    client_of,
)
from vigil.api.schemas import LoginRequest, LoginResponse, UserOut
from vigil.auth.roles import RequestContext

public = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])


@public.post("/login", response_model=LoginResponse)
def login(
    body: LoginRequest, request: Request, response: Response, services: ServicesDep
) -> LoginResponse:
    """Start a browser session: sets an HttpOnly cookie and returns the CSRF token."""
    anon = anonymous_context(request)
    principal = services.login.login(
        body.username, body.password, client=client_of(request), request_id=anon.request_id
    )
    assert principal.role is not None  # noqa: S101 - users always have a role
    session = services.sessions.start(RequestContext(principal, anon.request_id, anon.client))
    response.set_cookie(
        SESSION_COOKIE,
        session.secret,
        max_age=int(services.config.auth.session_hours * 3600),
        httponly=True,
        # Over TLS (directly, or as a trusted proxy says) the cookie never travels in clear.
        secure=services.config.api.cookie_secure or request.url.scheme == "https",
        samesite="strict",
        path="/",
    )
    return LoginResponse(
        user=principal.name,
        role=principal.role,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(ctx: Caller, request: Request, services: ServicesDep) -> Response:
    """End the browser session (bearer tokens are ended by revoking them)."""
    session_id: int | None = getattr(request.state, "session_id", None)
    if session_id is not None:
        services.sessions.end(ctx, session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=UserOut)
def me(ctx: Caller, services: ServicesDep) -> UserOut:
    return UserOut.model_validate(
        services.users.show(ctx, ctx.principal.name), from_attributes=True
    )
