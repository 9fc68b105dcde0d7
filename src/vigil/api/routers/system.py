"""Public endpoints: health only."""

from __future__ import annotations

from fastapi import APIRouter

from vigil import __version__
from vigil.api.schemas import Health

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness probe; public, reveals nothing but the version.

    Answered on the event loop, never queued behind the worker threads that busy routes
    (photo uploads, exports) may occupy."""
    return Health(status="ok", version=__version__)
