"""Prometheus metrics for monitoring (admins and auditors; scrapers use a bearer token)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vigil.api.context import Caller, ServicesDep
from vigil.monitoring import CONTENT_TYPE

router = APIRouter(tags=["system"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def metrics(ctx: Caller, services: ServicesDep) -> Response:
    return Response(services.monitoring.scrape(ctx), media_type=CONTENT_TYPE)
