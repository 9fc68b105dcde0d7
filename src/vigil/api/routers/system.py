"""Public endpoints: health only."""

from __future__ import annotations

from fastapi import APIRouter

from vigil import __version__
from vigil.api.schemas import Health

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness probe; public, reveals nothing but the version."""
    return Health(status="ok", version=__version__)
