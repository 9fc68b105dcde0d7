"""The face model, loaded once per test session, and a helper to re-encode test photos."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from vigil.faces.model import DlibFaceModel

# Loaded once per test session: the models take about a second to load.
_MODEL = DlibFaceModel()


@pytest.fixture(scope="session")
def face_model() -> DlibFaceModel:
    return _MODEL


def reencode(data: bytes, transform=None, fmt: str = "JPEG", **params: object) -> bytes:  # type: ignore[no-untyped-def]
    image = Image.open(io.BytesIO(data))
    image.load()
    if transform is not None:
        image = transform(image)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()
