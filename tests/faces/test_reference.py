"""The reference gate on real photos: ordinary news photos pass; unusable ones are refused,
and the refusal names the measure that failed and its bar."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image, ImageFilter

from tests.faces.conftest import reencode
from vigil.errors import InvalidInput
from vigil.faces.engine import FaceEngine, NoFaceFound
from vigil.faces.images import ImageLimits, load_image
from vigil.faces.model import DlibFaceModel
from vigil.faces.reference import reference_face

LFW = "lfw-dev/lfw-deepfunneled"


@pytest.fixture(scope="module")
def engine(face_model: DlibFaceModel) -> FaceEngine:
    return FaceEngine(face_model, threshold=0.6)


def test_ordinary_news_photos_pass(datasets: Path, engine: FaceEngine) -> None:
    photos = random.Random(12).sample(sorted((datasets / LFW).glob("*/*.jpg")), 60)
    found, refused = 0, []
    for photo in photos:
        faces = engine.analyse(load_image(photo.read_bytes(), ImageLimits(), name=photo.name))
        if faces:
            found += 1
            if not faces[0].usable:
                refused.append((photo.name, engine.bar.failures(faces[0].quality)))
    print(f"\n{found - len(refused)}/{found} accepted; refused: {refused}")
    assert found >= 55
    assert len(refused) <= 1  # the bar was set to pass 99% of these (benchmarks/)


def _tiny(image: Image.Image) -> Image.Image:
    return image.resize((90, 90))


def _blurred(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(4))


@pytest.mark.parametrize(
    ("photo", "change", "failed"),
    [
        ("George_W_Bush/George_W_Bush_0353.jpg", _tiny, "face size (px)"),
        ("George_W_Bush/George_W_Bush_0353.jpg", _blurred, "sharpness"),
        ("Hugh_Grant/Hugh_Grant_0007.jpg", None, "frontalness"),  # head turned well away
    ],
    ids=["tiny", "blurred", "turned away"],
)
def test_unusable_photos_are_refused_by_name(
    datasets: Path, engine: FaceEngine, photo: str, change: object, failed: str
) -> None:
    data = reencode((datasets / LFW / photo).read_bytes(), change)
    with pytest.raises(InvalidInput) as refused:
        reference_face(engine, ImageLimits(), "photo.jpg", data)
    if isinstance(refused.value, NoFaceFound):
        pytest.fail(f"the face should be found and judged, not missed: {refused.value}")
    assert failed in refused.value.message
    assert any(f.startswith(failed) for f in refused.value.fields["failed"])
    weak = reference_face(engine, ImageLimits(), "photo.jpg", data, allow_weak=True)
    assert weak.weak
