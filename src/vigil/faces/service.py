"""Face detection and comparison for API callers: authorised, audited, images never stored."""

from __future__ import annotations

import hashlib
from typing import Any

from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.faces.compare import Comparison
from vigil.faces.engine import AnalysedFace, FaceEngine
from vigil.faces.images import load_image
from vigil.faces.photos import Photos


def _fingerprint(data: bytes) -> dict[str, Any]:
    """What the audit log keeps of an image: its hash and size, never its bytes."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


class FaceService:
    def __init__(self, access: Access, engine: FaceEngine, photos: Photos) -> None:
        self.access = access
        self.engine = engine
        self.photos = photos

    def detect(self, ctx: RequestContext, data: bytes, name: str) -> list[AnalysedFace]:
        with (
            self.access.attempt(ctx, Permission.FACES_ANALYSE, "faces.detect", "image"),
            self.photos.working(ctx),
        ):
            faces = self.engine.analyse(load_image(data, self.photos.limits, name=name))
        details = {"image": _fingerprint(data), "faces": len(faces)}
        self.access.record_alone(ctx, "faces.detect", "image", details)
        return faces

    def compare(
        self, ctx: RequestContext, a: bytes, b: bytes
    ) -> tuple[AnalysedFace, AnalysedFace, Comparison]:
        limits = self.photos.limits
        with (
            self.access.attempt(ctx, Permission.FACES_ANALYSE, "faces.compare", "images"),
            self.photos.working(ctx, 2),
        ):
            face_a = self.engine.main_face(load_image(a, limits, name="a"), name="a")
            face_b = self.engine.main_face(load_image(b, limits, name="b"), name="b")
            result = self.engine.compare(face_a.descriptor, face_b.descriptor)
        details = {"a": _fingerprint(a), "b": _fingerprint(b), **result.to_dict()}
        self.access.record_alone(ctx, "faces.compare", "images", details)
        return face_a, face_b, result
