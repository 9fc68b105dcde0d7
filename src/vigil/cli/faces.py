"""``vigil faces``: detect and compare faces in local image files (nothing is stored)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from vigil.auth.roles import Permission
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.config import Config, load_config, save_config
from vigil.errors import NotInitialised
from vigil.faces.build import build_face_engine
from vigil.faces.calibration import CALIBRATION_FILE, load_calibration
from vigil.faces.detector_eval import evaluate_detector, read_imglab
from vigil.faces.engine import FaceEngine
from vigil.faces.images import load_image_file
from vigil.faces.lfw_report import Settings, calibrate, evaluate
from vigil.settings import image_limits

app = typer.Typer(no_args_is_help=True)
EMBEDDER = typer.Option(
    None, "--embedder", help="dlib, reid or fused; default: the configured one."
)


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
    return build_face_engine(faces, data_dir=state.data_dir), config


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


def _progress(enabled: bool, label: str) -> Iterator[Callable[[int], Callable[[int], None]]]:
    """A rich progress bar on a terminal; silent for --json or when piped."""
    if not enabled or not console.is_terminal:
        yield lambda _total: lambda _n: None
        return
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:

        def start(total: int) -> Callable[[int], None]:
            task = bar.add_task(label, total=total)
            return lambda n: bar.advance(task, n)

        yield start


@app.command("eval-lfw")
def eval_lfw(
    ctx: typer.Context,
    images: Path = typer.Option(..., "--images", help="LFW image folder (one folder per person)."),
    pairs: Path = typer.Option(..., "--pairs", help="pairs.txt (View 2) or pairsDevTest.txt."),
    train: Path | None = typer.Option(None, "--train", help="pairsDevTrain.txt for a View 1 run."),
    upsample: int | None = typer.Option(None, "--upsample", min=0, max=3),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", min=1, help="Processes."),
    embedder: str | None = EMBEDDER,
    as_json: bool = JSON,
) -> None:
    """Verification accuracy on LFW pairs, with TAR at FAR, EER and no-face accounting.

    Distances are the embedder's, in the space of its calibration (the fused one's weights
    were chosen on pairsDevTrain, never on the pairs tested)."""
    state: CliState = ctx.obj
    settings = Settings.of(_config(state).faces, workers, upsample, embedder)
    space = load_calibration(state.data_dir, settings.embedder).space
    with contextmanager(_progress)(not as_json, "describing images") as start:
        report = evaluate(images, pairs, train, settings, start, space)

    def human() -> None:
        console.print(
            f"embedder {report['embedder']} (weights {report['weights']}); "
            f"protocol: {report['protocol']}; {report['pairs']} pairs"
        )
        console.print(
            f"accuracy {report['accuracy']:.2%} ± {report['accuracy_std']:.2%} "
            f"at threshold {report['threshold']:.4f}"
        )
        console.print(
            f"TAR {report['tar_at_far_1e-02']:.2%} at FAR 1e-2, "
            f"{report['tar_at_far_1e-03']:.2%} at FAR 1e-3; EER {report['eer']:.2%}"
        )
        console.print(
            f"{report['images']} images, {report['no_face_images']} without a detected face "
            f"({report['no_face_handling']}); {report['images_per_s']:.1f} images/s"
        )

    emit(report, as_json, human)


@app.command("calibrate")
def calibrate_command(
    ctx: typer.Context,
    images: Path = typer.Option(..., "--images", help="LFW-layout image folder."),
    pairs: Path = typer.Option(..., "--pairs", help="A pairs file naming the images to use."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", min=1, help="Processes."),
    embedder: str | None = EMBEDDER,
    as_json: bool = JSON,
) -> None:
    """Measure an embedder's false-match rates on labelled photos (for fused, its weights
    first); for the configured embedder, set the operating points (FMR 1e-3, 1e-4, EER)."""
    state: CliState = ctx.obj
    services = state.services()
    request = state.context(services)
    services.access.require(request, Permission.CONFIG_MANAGE, "config.change", "faces")
    config = services.config
    settings = Settings.of(config.faces, workers, embedder=embedder)
    with contextmanager(_progress)(not as_json, "describing images") as start:
        points = calibrate(images, pairs, settings, start)
    configured = settings.embedder == config.faces.embedder
    faces = config.faces.model_copy(
        update={
            "threshold": points.fmr_1e3,
            "threshold_fmr_1e3": points.fmr_1e3,
            "threshold_fmr_1e4": points.fmr_1e4,
            "threshold_eer": points.eer,
        }
        if configured
        else {}
    )
    details = {
        "embedder": points.embedder,
        "weights": list(points.weights),
        "operating_points_set": configured,
        "fmr_1e-3": points.fmr_1e3,
        "fmr_1e-4": points.fmr_1e4,
        "eer": points.eer,
        "genuine_pairs": points.genuine_pairs,
        "impostor_pairs": points.impostor_pairs,
        "reliable_fmr_1e-4": points.reliable(1e-4),
        "source": points.source,
    }
    points.save(state.data_dir)
    save_config(state.data_dir, config.model_copy(update={"faces": faces}))
    services.access.record_alone(request, "config.change", "faces", details)

    def human() -> None:
        where = "written to the config" if configured else "measured (not the configured embedder)"
        console.print(
            f"{points.embedder} (weights {list(points.weights)}) thresholds {where}: FMR 1e-3 "
            f"{points.fmr_1e3:.4f}, FMR 1e-4 {points.fmr_1e4:.4f}, EER {points.eer:.4f}; "
            f"the false-match rate by distance to {state.data_dir / CALIBRATION_FILE}"
        )
        console.print(
            f"from {points.genuine_pairs} genuine and {points.impostor_pairs} impostor pairs"
        )
        if not points.reliable(1e-4):
            console.print("warning: too few impostor pairs for a reliable FMR 1e-4 estimate")

    emit(details, as_json, human)


@app.command("eval-detector")
def eval_detector(
    ctx: typer.Context,
    xml: Path = typer.Option(..., "--xml", help="dlib imglab annotations (e.g. testing.xml)."),
    upsample: int | None = typer.Option(None, "--upsample", min=0, max=3),
    iou: float = typer.Option(0.3, "--iou", min=0.05, max=0.95, help="Overlap that counts."),
    detector: str | None = typer.Option(
        None, "--detector", help="yunet, hog or mmod; default: the configured one."
    ),
    as_json: bool = JSON,
) -> None:
    """Detector recall and precision against hand-marked face boxes."""
    config = _config(ctx.obj).faces
    if detector is not None:
        config = config.model_copy(update={"detector": detector})
    model = build_face_engine(config).model
    score = evaluate_detector(
        model, read_imglab(xml), config.upsample if upsample is None else upsample, iou
    )

    def human() -> None:
        console.print(
            f"{score.images} images, {score.truth} marked faces: recall {score.recall:.3f}, "
            f"precision {score.precision:.3f} at IoU >= {iou}"
        )

    emit({**score.to_dict(), "iou": iou, "detector": config.detector}, as_json, human)
