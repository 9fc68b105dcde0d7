"""Uploaded photos are bounded: size of the detection work, photos at once, photos a minute."""

from __future__ import annotations

import io
import threading
import uuid

import numpy as np
import pytest
from PIL import Image

from vigil.auth.roles import Principal, RequestContext, Role
from vigil.errors import Busy, TooManyAttempts
from vigil.faces.engine import FaceEngine
from vigil.faces.images import ImageLimits, load_image
from vigil.faces.model import Box, DlibFaceModel
from vigil.faces.photos import Photos


def _ctx(name: str) -> RequestContext:
    return RequestContext(Principal(name, "user", Role.OPERATOR, 1), uuid.uuid4().hex)


def test_a_face_in_a_huge_photo_is_found_and_cut_out_at_full_size(
    face_model: DlibFaceModel, portrait: bytes
) -> None:
    engine = FaceEngine(face_model, threshold=0.6, detect_pixels=2_000_000)
    alone = engine.main_face(load_image(portrait))
    face = Image.open(io.BytesIO(portrait)).convert("RGB")
    canvas = Image.new("RGB", (6000, 4000), (200, 200, 200))
    canvas.paste(face, (4000, 2500))
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    found = engine.analyse(load_image(out.getvalue()))
    assert len(found) == 1
    own = alone.detection.box
    # Where it is in the big photo: about the portrait's own box, moved by where it was pasted.
    moved = Box(own.left + 4000, own.top + 2500, own.right + 4000, own.bottom + 2500)
    assert found[0].detection.box.iou(moved) > 0.6
    # Cut out at full size, the face describes as it does alone.
    assert float(np.linalg.norm(found[0].descriptor - alone.descriptor)) < 0.1


def test_photos_at_once_are_limited_per_process() -> None:
    photos = Photos(ImageLimits(), concurrent=1, wait_s=0.05)
    entered = threading.Event()
    leave = threading.Event()

    def hold_the_turn() -> None:
        with photos.working(_ctx("olga")):
            entered.set()
            leave.wait(5)

    worker = threading.Thread(target=hold_the_turn)
    worker.start()
    try:
        assert entered.wait(5)
        with pytest.raises(Busy, match="at its limit") as refused, photos.working(_ctx("oscar")):
            pass
        assert refused.value.http_status == 503
        assert refused.value.retry_after_s >= 1
    finally:
        leave.set()
        worker.join()
    with photos.working(_ctx("oscar")):
        pass


def test_each_user_may_send_so_many_photos_a_minute() -> None:
    photos = Photos(ImageLimits(), per_minute=3)
    with photos.working(_ctx("olga"), 2):
        pass
    with (
        pytest.raises(TooManyAttempts, match="3 photos a minute") as refused,
        photos.working(_ctx("olga"), 2),
    ):
        pass
    assert 1 <= refused.value.retry_after_s <= 60
    with photos.working(_ctx("olga")):  # the refused two were not counted
        pass
    with pytest.raises(TooManyAttempts), photos.working(_ctx("olga")):
        pass
    with photos.working(_ctx("oscar"), 3):  # another user has a rate of their own
        pass
