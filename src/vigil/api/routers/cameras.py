"""The camera registry (admins manage it); stream credentials are never returned."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import CameraCreate, CameraOut, CameraPatch
from vigil.auth.names import NAME_PATTERN
from vigil.cameras.registry import CameraSpec
from vigil.errors import InvalidInput

router = APIRouter(prefix="/cameras", tags=["cameras"])
CameraName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]


@router.get("", response_model=list[CameraOut])
def list_cameras(ctx: Caller, services: ServicesDep) -> list[CameraOut]:
    return [CameraOut.model_validate(c.to_dict()) for c in services.cameras.list(ctx)]


@router.post("", response_model=CameraOut, status_code=status.HTTP_201_CREATED)
def add_camera(body: CameraCreate, ctx: Caller, services: ServicesDep) -> CameraOut:
    spec = CameraSpec(
        body.name,
        body.url,
        body.site,
        body.region,
        body.group,
        body.latitude,
        body.longitude,
        body.analysis_fps,
        body.analysis_url,
    )
    return CameraOut.model_validate(services.cameras.add(ctx, spec).to_dict())


@router.get("/{name}", response_model=CameraOut)
def get_camera(name: CameraName, ctx: Caller, services: ServicesDep) -> CameraOut:
    return CameraOut.model_validate(services.cameras.show(ctx, name).to_dict())


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def remove_camera(name: CameraName, ctx: Caller, services: ServicesDep) -> Response:
    services.cameras.remove(ctx, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{name}", response_model=CameraOut)
def update_camera(
    name: CameraName, body: CameraPatch, ctx: Caller, services: ServicesDep
) -> CameraOut:
    """Changes the fields given: ``enabled``, ``analysis_fps`` (null for the default),
    ``analysis_url`` (null: analyse the recording)."""
    info = None
    if body.enabled is not None:
        info = services.cameras.set_enabled(ctx, name, enabled=body.enabled)
    if "analysis_fps" in body.model_fields_set:
        info = services.cameras.set_analysis_fps(ctx, name, body.analysis_fps)
    if "analysis_url" in body.model_fields_set:
        info = services.cameras.set_analysis_url(ctx, name, body.analysis_url)
    if info is None:
        raise InvalidInput("give enabled, analysis_fps or analysis_url to change")
    return CameraOut.model_validate(info.to_dict())
