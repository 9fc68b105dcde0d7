"""The one place that turns errors into API responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from vigil.api.context import authenticate, request_id_of, services_of
from vigil.api.schemas import ErrorResponse
from vigil.audit.entry import Outcome
from vigil.auth.roles import RequestContext
from vigil.errors import (
    BadRequest,
    Busy,
    Conflict,
    DiskFull,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    RetryLater,
    TooManyAttempts,
    VigilError,
)
from vigil.logthrottle import Throttle

logger = logging.getLogger(__name__)
# A failing disk or store fails every request alike: the log says so once a minute per kind.
_throttle = Throttle(logger)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    error.http_status: {"model": ErrorResponse, "description": error.__name__}
    for error in (
        BadRequest,
        NotAuthenticated,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        InvalidInput,
        TooManyAttempts,
        Busy,
        DiskFull,
    )
}


def _render(request: Request, status: int, detail: dict[str, Any]) -> JSONResponse:
    body = {"error": detail, "request_id": request_id_of(request)}
    return JSONResponse(body, status_code=status)


def _vigil_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VigilError)  # noqa: S101 - registered for VigilError only
    if exc.http_status >= 500:
        _throttle.log(
            logging.ERROR, exc.code, "request %s failed: %s", request_id_of(request), exc.message
        )
    response = _render(request, exc.http_status, exc.to_dict())
    if isinstance(exc, RetryLater):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    if isinstance(exc, NotAuthenticated):
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """Schema violations: the message names each field; submitted values are never echoed."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    problems = [
        {"loc": [str(p) if not isinstance(p, int) else p for p in err["loc"]], "msg": err["msg"]}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems[:5])
    ctx: RequestContext | None = getattr(request.state, "ctx", None)
    if ctx is None and _is_protected(request):
        # The body failed to parse before authentication ran: who asks still comes first.
        try:
            ctx = authenticate(request)
        except VigilError as refused:
            return _vigil_error(request, refused)
    if ctx is not None:
        services_of(request).access.record_alone(
            ctx,
            "api.request",
            f"{request.method} {request.url.path}",
            {"reason": "invalid_input", "message": summary},
            Outcome.DENIED,
        )
    detail = {"code": InvalidInput.code, "message": f"invalid request: {summary}"}
    return _render(request, 422, {**detail, "problems": problems})


def _is_protected(request: Request) -> bool:
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    return dependant is not None and any(dep.call is authenticate for dep in dependant.dependencies)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # noqa: S101 - registered for it only
    codes = {400: BadRequest.code, 404: "not_found", 405: "method_not_allowed"}
    code = codes.get(exc.status_code, "http_error")
    response = _render(request, exc.status_code, {"code": code, "message": str(exc.detail)})
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return response


def _allowed_methods(request: Request) -> set[str]:
    """Every method of every route on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({**request.scope, "method": "\x00"})
        if match is Match.PARTIAL:
            methods |= getattr(route, "methods", None) or set()
    return methods


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: the trace goes to the log, the caller gets JSON naming the request, and the
    failure is on the record like any other outcome of an authenticated call."""
    rid = request_id_of(request)
    kind = type(exc).__name__
    logged = _throttle.log(logging.ERROR, kind, "request %s failed unexpectedly", rid, exc_info=exc)
    ctx: RequestContext | None = getattr(request.state, "ctx", None)
    if ctx is not None:
        try:
            services_of(request).access.record_alone(
                ctx,
                "api.request",
                f"{request.method} {request.url.path}",
                {"reason": "internal_error", "error": kind},
                Outcome.DENIED,
            )
        except (VigilError, SQLAlchemyError, TimeoutError) as failed:  # the store fails too
            _throttle.log(logging.ERROR, "unaudited", "request %s not audited: %s", rid, failed)
    message = (
        f"an unexpected error; it is logged as request {rid}"
        if logged
        else f"an unexpected error (request {rid}); errors like it are logged once a minute"
    )
    return _render(request, 500, {"code": "internal_error", "message": message})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(VigilError, _vigil_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
