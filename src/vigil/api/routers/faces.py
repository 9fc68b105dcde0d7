"""Face detection and comparison on uploaded photos; nothing uploaded is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import FaceComparisonOut, FaceOut, FacesOut

router = APIRouter(prefix="/faces", tags=["faces"])
Upload = Annotated[UploadFile, File(description="JPEG, PNG, WebP or PGM")]


async def _read(upload: UploadFile) -> bytes:
    data = await upload.read()
    await upload.close()
    return data


@router.post("/detect", response_model=FacesOut)
async def detect(image: Upload, ctx: Caller, services: ServicesDep) -> FacesOut:
    """Faces in one photo: boxes, landmarks, quality."""
    data = await _read(image)
    faces = services.faces.detect(ctx, data, image.filename or "image")
    return FacesOut(faces=[FaceOut.model_validate(f.to_dict()) for f in faces])


@router.post("/compare", response_model=FaceComparisonOut)
async def compare(a: Upload, b: Upload, ctx: Caller, services: ServicesDep) -> FaceComparisonOut:
    """Whether the main faces of two photos are the same person, at the operating point."""
    face_a, face_b, result = services.faces.compare(ctx, await _read(a), await _read(b))
    return FaceComparisonOut(
        **result.to_dict(),
        a=FaceOut.model_validate(face_a.to_dict()),
        b=FaceOut.model_validate(face_b.to_dict()),
    )
