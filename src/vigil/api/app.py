"""The FastAPI application, built from injected services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from vigil import __version__
from vigil.api.context import authenticate
from vigil.api.errors import ERROR_RESPONSES, install_error_handlers
from vigil.api.middleware import (
    BodyLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from vigil.api.routers import (
    alerts,
    audit,
    auth,
    cameras,
    cases,
    crowds,
    faces,
    metrics,
    organisations,
    partner,
    public,
    publications,
    recordings,
    subjects,
    system,
    tokens,
    users,
)
from vigil.app import Services
from vigil.web import pages

API_PREFIX = "/api/v1"
# The API's description, for signed-in callers (not in the OpenAPI document itself).
DESCRIBED = (("GET", f"{API_PREFIX}/openapi.json"), ("GET", f"{API_PREFIX}/docs"))


def create_api(services: Services) -> FastAPI:
    """Every route needs authentication unless it is open to all (login, health, and the
    public cameras' redacted video); so does the API's description (OpenAPI document and
    interactive docs). The third-party routes take an organisation's key instead."""
    app = FastAPI(
        title="Vigil", version=__version__, openapi_url=None, docs_url=None, redoc_url=None
    )
    app.state.services = services
    services.serve_people()
    open_to_all = APIRouter(prefix=API_PREFIX, responses=ERROR_RESPONSES)
    open_to_all.include_router(system.router)
    open_to_all.include_router(auth.public)
    open_to_all.include_router(public.router)
    # Third parties: an organisation's key, checked by the routes themselves (no session).
    open_to_all.include_router(partner.router)
    protected = APIRouter(
        prefix=API_PREFIX, dependencies=[Depends(authenticate)], responses=ERROR_RESPONSES
    )
    routers = (
        auth.router,
        users.router,
        tokens.router,
        audit.router,
        faces.router,
        cameras.router,
        recordings.router,
        alerts.router,
        cases.router,
        metrics.router,
        publications.router,
        organisations.router,
        crowds.router,
        subjects.router,
    )
    for router in routers:
        protected.include_router(router)
    protected.include_router(_described(app))
    app.include_router(open_to_all)
    app.include_router(protected)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(packages=[("vigil.web", "static")]), name="static")
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=services.config.api.max_body_bytes,
        max_upload_bytes=services.config.api.max_upload_bytes,
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        docs_path=f"{API_PREFIX}/docs",
        tile_origin=services.config.ui.tile_origin,
    )
    app.add_middleware(RequestIdMiddleware)
    return app


def _described(app: FastAPI) -> APIRouter:
    """The OpenAPI document and Swagger UI, for authenticated callers only."""
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @router.get("/docs", response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{API_PREFIX}/openapi.json", title="Vigil API")

    return router
