"""Face detection and comparison on uploaded photos; nothing uploaded is stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from vigil.api.context import Caller, ServicesDep
from vigil.api.schemas import FaceComparisonOut, FaceOut, FacesOut

router = APIRouter(prefix="/faces", tags=["faces"])
Upload = Annotated[UploadFile, File(description="JPEG, PNG, WebP or PGM")]


def read_upload(upload: UploadFile) -> bytes:
    with upload.file as handle:
        return handle.read()


# Plain (not async) routes: FastAPI runs them in its thread pool, so face analysis and
# database work never block the event loop that serves everyone else.
@router.post("/detect", response_model=FacesOut)
def detect(image: Upload, ctx: Caller, services: ServicesDep) -> FacesOut:
    """Faces in one photo: boxes, landmarks, quality."""
    data = read_upload(image)
    faces = services.faces.detect(ctx, data, image.filename or "image")
    return FacesOut(faces=[FaceOut.model_validate(f.to_dict()) for f in faces])


@router.post("/compare", response_model=FaceComparisonOut)
def compare(a: Upload, b: Upload, ctx: Caller, services: ServicesDep) -> FaceComparisonOut:
    """Whether the main faces of two photos are the same person, at the operating point."""
    face_a, face_b, result = services.faces.compare(ctx, read_upload(a), read_upload(b))
    return FaceComparisonOut(
        **result.to_dict(),
        a=FaceOut.model_validate(face_a.to_dict()),
        b=FaceOut.model_validate(face_b.to_dict()),
    )
