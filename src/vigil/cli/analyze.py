"""``vigil analyze``: a video file imported into a case, or a camera's recordings again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import av
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from vigil.app import Services
from vigil.auth.roles import RequestContext
from vigil.cli.output import JSON, console, emit, errors
from vigil.cli.state import CliState
from vigil.errors import InvalidInput
from vigil.times import parse_moment


def analyze(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, help="Video file (anything FFmpeg reads)."),
    case: int | None = typer.Option(
        None, "--case", help="The case the file is evidence of (its scope includes imports)."
    ),
    camera: str | None = typer.Option(
        None, "--camera", help="The camera of the case the file shows; or to re-analyse."
    ),
    start: str | None = typer.Option(
        None, "--start", help="When the file's first frame was recorded (ISO 8601)."
    ),
    since: str | None = typer.Option(None, "--from", help="Re-analyse recordings from here."),
    until: str | None = typer.Option(None, "--to", help="... to here (at most 7 days)."),
    as_json: bool = JSON,
) -> None:
    """Import a video file into a case as its evidence (its sightings are searched inside
    that case alone; a Vigil export keeps its own camera and time), or find faces again in
    a camera's recordings (--camera, --from, --to); audited."""
    state: CliState = ctx.obj
    services = state.services()
    context = state.context(services)
    if file is None:
        if camera is None or since is None or until is None:
            raise InvalidInput(
                "give a video FILE and --case, or --camera, --from and --to to re-analyse "
                "recordings"
            )
        _rerun(services, context, camera, parse_moment(since), parse_moment(until), as_json)
        return
    if case is None:
        raise InvalidInput(
            "an imported file is a case's evidence: give --case (a camera records its own footage)",
            field="case",
        )
    began = None if start is None else parse_moment(start)
    total = _duration(file)
    with Progress(
        TextColumn("analysing"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s of video"),
        TimeRemainingColumn(),
        console=errors,
        disable=as_json or not errors.is_terminal,
    ) as bar:
        task = bar.add_task("analyse", total=total or None)
        result = services.imports.import_file(
            context, case, file, camera, began, progress=lambda t: bar.update(task, completed=t)
        )
    data = result.to_dict()
    origin = "" if result.from_export is None else f", a Vigil export (entry {result.from_export})"
    emit(
        data,
        as_json,
        lambda: console.print(
            f"case {case}: {data['sightings']} sightings in {data['video_seconds']} s of "
            f"video shown as {result.camera} from {result.start.isoformat()}{origin}"
        ),
    )


def _duration(file: Path) -> float | None:
    try:
        with av.open(str(file)) as container:
            return None if container.duration is None else container.duration / 1e6
    except (av.FFmpegError, OSError):
        return None  # the analysis itself reports what is wrong with the file


def _rerun(
    services: Services,
    context: RequestContext,
    camera: str,
    since: datetime,
    until: datetime,
    as_json: bool,
) -> None:
    with Progress(
        TextColumn("re-analysing"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} segments"),
        TimeRemainingColumn(),
        console=errors,
        disable=as_json or not errors.is_terminal,
    ) as bar:
        task = bar.add_task("rerun", total=None)
        result = services.analytics.reanalyse(
            context,
            camera,
            since,
            until,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    emit(
        result.to_dict(),
        as_json,
        lambda: console.print(
            f"{result.sightings} sightings in {result.segments} segments of {camera}"
            + (f"; {result.failed} damaged segments skipped" if result.failed else "")
        ),
    )
