"""The face pipeline on a real photo: detection, landmarks, chips, descriptors, comparison."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from tests.faces.conftest import reencode
from vigil.faces.engine import FaceEngine, NoFaceFound
from vigil.faces.images import load_image
from vigil.faces.model import CHIP_SIZE, DESCRIPTOR_SIZE, DlibFaceModel

SAME_PERSON_MAX = 0.4  # well inside dlib's 0.6 operating point


@pytest.fixture(scope="module")
def engine(face_model: DlibFaceModel) -> FaceEngine:
    return FaceEngine(face_model, upsample=1, threshold=0.6)


def test_one_face_with_landmarks_inside_its_box(engine: FaceEngine, portrait: bytes) -> None:
    image = load_image(portrait)
    faces = engine.analyse(image)
    assert len(faces) == 1
    face = faces[0]
    box = face.detection.box
    assert 120 <= box.width <= 260  # the head of a 512x600 portrait
    assert box.top < image.height / 2
    xs, ys = face.detection.landmarks[:, 0], face.detection.landmarks[:, 1]
    assert np.all((xs >= box.left) & (xs <= box.right))
    assert np.all((ys >= box.top) & (ys <= box.bottom))
    assert face.usable
    assert face.quality.frontalness > 0.8
    assert face.descriptor.shape == (DESCRIPTOR_SIZE,)
    assert np.isfinite(face.descriptor).all()


def test_chips_are_aligned_squares(face_model: DlibFaceModel, portrait: bytes) -> None:
    rgb = load_image(portrait).rgb
    faces = face_model.detect(rgb, 1)
    chips = face_model.chips(rgb, faces)
    assert [c.face.shape for c in chips] == [(CHIP_SIZE, CHIP_SIZE, 3)]
    assert [c.reid for c in chips] == [None]  # dlib's descriptor alone needs no other chip
    assert face_model.embed([]).shape == (0, DESCRIPTOR_SIZE)
    assert face_model.chips(rgb, []) == []


@pytest.mark.parametrize(
    "transform",
    [
        ImageOps.mirror,
        lambda im: im.resize((im.width // 2, im.height // 2)),
        lambda im: im.convert("L"),
        lambda im: im.rotate(8, expand=True, fillcolor=(128, 128, 128)),
        lambda im: ImageOps.expand(im, border=200, fill=(30, 30, 30)),
    ],
    ids=["mirrored", "half-size", "grayscale", "tilted-8deg", "small-in-frame"],
)
def test_the_same_face_in_another_copy_matches(
    engine: FaceEngine, portrait: bytes, transform
) -> None:  # type: ignore[no-untyped-def]
    original = engine.main_face(load_image(portrait))
    copy = engine.main_face(load_image(reencode(portrait, transform, quality=80)))
    result = engine.compare(original.descriptor, copy.descriptor)
    assert result.distance < SAME_PERSON_MAX
    assert result.same


def test_an_exif_rotated_photo_is_upright_before_detection(
    engine: FaceEngine, portrait: bytes
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated; the viewer turns it back 90 degrees
    sideways = reencode(
        portrait, lambda im: im.transpose(Image.Transpose.ROTATE_270), exif=exif.tobytes()
    )
    assert len(engine.analyse(load_image(sideways))) == 1


def test_a_photo_without_a_face_says_so(engine: FaceEngine, portrait: bytes) -> None:
    def hide_face(im: Image.Image) -> Image.Image:
        im = im.copy()
        ImageDraw.Draw(im).rectangle((120, 60, 430, 420), fill=(0, 0, 0))
        return im

    blank = load_image(reencode(portrait, hide_face))
    assert engine.analyse(blank) == []
    with pytest.raises(NoFaceFound, match=r"no face found in probe\.jpg"):
        engine.main_face(blank, name="probe.jpg")


def test_flip_averaging_keeps_descriptors_close(face_model: DlibFaceModel, portrait: bytes) -> None:
    image = load_image(portrait)
    plain = FaceEngine(face_model, threshold=0.6, flip=False).main_face(image)
    averaged = FaceEngine(face_model, threshold=0.6, flip=True).main_face(image)
    gap = float(np.linalg.norm(plain.descriptor - averaged.descriptor))
    assert 0.0 < gap < 0.2


def test_the_main_face_is_the_largest_described_as_it_is_among_the_others(
    engine: FaceEngine, portrait: bytes
) -> None:
    face = Image.open(io.BytesIO(portrait)).convert("RGB")
    canvas = Image.new("RGB", (face.width * 2, face.height), (200, 200, 200))
    canvas.paste(face, (0, 0))
    canvas.paste(face.resize((face.width // 2, face.height // 2)), (face.width, face.height // 4))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    image = load_image(out.getvalue())
    everyone = engine.analyse(image)
    main = engine.main_face(image)
    assert len(everyone) == 2
    assert everyone[0].detection.box.width > 1.5 * everyone[1].detection.box.width
    assert main.detection.box == everyone[0].detection.box
    assert main.quality == everyone[0].quality
    assert float(np.linalg.norm(main.descriptor - everyone[0].descriptor)) < 1e-4
