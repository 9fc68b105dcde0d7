"""``vigil faces``: detect and compare faces in local image files (nothing is stored)."""

from __future__ import annotations

from pathlib import Path

import typer

from vigil.app import build_face_engine, image_limits
from vigil.cli.output import console, emit, table
from vigil.cli.state import CliState
from vigil.config import Config, load_config
from vigil.errors import NotInitialised
from vigil.faces.engine import FaceEngine
from vigil.faces.images import load_image_file

app = typer.Typer(no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _config(state: CliState) -> Config:
    """The data directory's settings (operating point, limits), or the defaults without one."""
    try:
        return load_config(state.data_dir)
    except NotInitialised:
        return Config()


def _engine(state: CliState, upsample: int | None) -> tuple[FaceEngine, Config]:
    config = _config(state)
    faces = (
        config.faces if upsample is None else config.faces.model_copy(update={"upsample": upsample})
    )
    return build_face_engine(faces), config


@app.command("detect")
def detect(
    ctx: typer.Context,
    image: Path = typer.Argument(..., help="JPEG, PNG, WebP or PGM file."),
    upsample: int | None = typer.Option(None, "--upsample", min=0, max=3, help="HOG upsampling."),
    as_json: bool = JSON,
) -> None:
    """Faces in an image: boxes, five landmarks, quality."""
    engine, config = _engine(ctx.obj, upsample)
    faces = engine.analyse(load_image_file(image, image_limits(config.faces)))
    boxes = [f.detection.box for f in faces]
    rows = [
        (
            n,
            f"{box.left},{box.top} {box.width}x{box.height}",
            f"{f.detection.score:.2f}",
            f.quality.face_px,
            f"{f.quality.sharpness:.0f}",
            f"{f.quality.frontalness:.2f}",
            f.usable,
        )
        for n, (f, box) in enumerate(zip(faces, boxes, strict=True), start=1)
    ]
    emit(
        {"image": str(image), "faces": [f.to_dict() for f in faces]},
        as_json,
        lambda: table(
            f"{len(faces)} face(s) in {image.name}",
            ("#", "box", "score", "size px", "sharpness", "frontal", "usable"),
            rows,
        ),
    )


@app.command("compare")
def compare(
    ctx: typer.Context,
    a: Path = typer.Argument(..., help="First photo."),
    b: Path = typer.Argument(..., help="Second photo."),
    as_json: bool = JSON,
) -> None:
    """Distance and similarity of the main faces of two photos, and the decision."""
    engine, config = _engine(ctx.obj, None)
    limits = image_limits(config.faces)
    face_a = engine.main_face(load_image_file(a, limits), name=a.name)
    face_b = engine.main_face(load_image_file(b, limits), name=b.name)
    result = engine.compare(face_a.descriptor, face_b.descriptor)

    def human() -> None:
        verdict = "same person" if result.same else "different people"
        console.print(
            f"distance {result.distance:.4f}, similarity {result.similarity:.4f}: {verdict} "
            f"(threshold {result.threshold})"
        )

    emit({"a": str(a), "b": str(b), **result.to_dict()}, as_json, human)
