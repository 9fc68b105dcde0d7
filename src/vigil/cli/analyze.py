"""``vigil analyze``: face analysis of a video file as if a camera had recorded it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import av
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from vigil.app import Services
from vigil.auth.roles import RequestContext
from vigil.cli.cameras import parse_time
from vigil.cli.output import console, emit, errors
from vigil.cli.state import CliState
from vigil.errors import InvalidInput

JSON = typer.Option(False, "--json", help="Machine-readable output.")


def analyze(
    ctx: typer.Context,
    file: Path | None = typer.Argument(None, help="Video file (anything FFmpeg reads)."),
    camera: str = typer.Option(..., "--camera", help="The camera that recorded it."),
    start: str | None = typer.Option(
        None, "--start", help="When its first frame was recorded (default: the file's mtime)."
    ),
    since: str | None = typer.Option(None, "--from", help="Re-analyse recordings from here."),
    until: str | None = typer.Option(None, "--to", help="... to here (at most 7 days)."),
    as_json: bool = JSON,
) -> None:
    """Find faces in a video file, or again in recordings (--from/--to): sightings, audited."""
    state: CliState = ctx.obj
    services = state.services()
    context = state.context(services)
    if file is None:
        if since is None or until is None:
            raise InvalidInput("give a video FILE, or --from and --to to re-analyse recordings")
        _rerun(services, context, camera, parse_time(since), parse_time(until), as_json)
        return
    began = (
        parse_time(start)
        if start is not None
        else datetime.fromtimestamp(file.stat().st_mtime if file.exists() else 0, UTC)
    )
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
        result = services.analytics.import_video(
            context, file, camera, began, progress=lambda t: bar.update(task, completed=t)
        )
    data = result.to_dict()
    emit(
        data,
        as_json,
        lambda: console.print(
            f"{data['sightings']} sightings in {data['video_seconds']} s of video from "
            f"{camera} ({data['frames_sampled']} frames sampled, {data['frames_still']} still)"
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
