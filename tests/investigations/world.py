"""A small city for investigation tests: cameras, people, sightings, a case on them.

Grace Hopper's sightings carry the descriptor of her real portrait (with a little noise,
as a camera would give); other people's carry descriptors far from hers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from sqlalchemy import update

from tests.conftest import Env
from tests.recorded import add_camera
from tests.sightings import default_width, store_sightings_at
from vigil.auth.roles import RequestContext, Role
from vigil.config import FacesConfig
from vigil.faces.build import build_face_engine
from vigil.faces.images import ImageLimits
from vigil.faces.reference import ReferenceFace, reference_face
from vigil.investigations.cases import CaseSpec
from vigil.store.models import SightingRow

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@cache
def hopper(portrait: Path) -> ReferenceFace:
    engine = build_face_engine(FacesConfig())
    return reference_face(engine, ImageLimits(), portrait.name, portrait.read_bytes())


def mirrored(portrait: Path) -> bytes:
    """Another photo of her: the portrait mirrored and re-encoded."""
    image = Image.open(portrait).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def blurred(portrait: Path) -> bytes:
    """A photo of her too blurred to pass the quality bar (sharpness about 3.6 < 4)."""
    image = Image.open(portrait).resize((256, 300)).filter(ImageFilter.GaussianBlur(3.6))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


@dataclass
class World:
    env: Env
    ivy: RequestContext  # investigator, opens cases
    sue: RequestContext  # supervisor, approves
    cameras: dict[str, int]


def world(env: Env) -> World:
    cameras = {name: add_camera(env, name) for name in ("gate", "hall", "yard")}
    ivy = env.add_user("ivy", Role.INVESTIGATOR)
    env.services.groups.grant(env.local(), "city", "ivy")
    sue = env.add_user("sue", Role.SUPERVISOR)
    return World(env, ivy, sue, cameras)


def her_sightings(w: World, portrait: Path, camera: str, at: datetime, n: int = 1) -> list[int]:
    rng = np.random.default_rng(len(camera) + n)
    her = hopper(portrait).descriptor
    vectors = her + rng.normal(scale=0.01, size=(n, her.size))
    ids = store_sightings_at(w.env, w.cameras[camera], vectors.astype(np.float32), at)
    crop = hopper(portrait).crop_jpeg
    with w.env.services.db.write() as session:
        session.execute(update(SightingRow).where(SightingRow.id.in_(ids)).values(crop=crop))
    return ids


def strangers(w: World, camera: str, at: datetime, n: int) -> list[int]:
    rng = np.random.default_rng(99)
    vectors = rng.normal(scale=0.1, size=(n, default_width())).astype(np.float32)
    return store_sightings_at(w.env, w.cameras[camera], vectors, at)


def spec(cameras: list[str], **changes: object) -> CaseSpec:
    fields: dict[str, object] = {
        "subject": "woman seen at the north gate",
        "legal_basis": "StPO 163",
        "reference": "AZ 4711/26",
        "purpose": "locate a missing person",
        "start": NOON - timedelta(hours=6),
        "end": NOON + timedelta(hours=6),
        "expires": datetime.now(UTC) + timedelta(days=30),
        "cameras": cameras,
    }
    fields.update(changes)
    return CaseSpec(**fields)  # type: ignore[arg-type]


def approved_case(w: World, cameras: list[str], **changes: object) -> int:
    case = w.env.services.cases.open(w.ivy, spec(cameras, **changes))
    w.env.services.cases.approve(w.sue, case.id)
    return case.id
