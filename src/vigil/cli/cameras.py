"""``vigil camera``: the registry, recordings (export, holds) and camera groups."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import typer

from vigil.cameras.registry import CameraSpec
from vigil.cli.exports import manifest_path
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.recording.service import TimeRange
from vigil.times import parse_moment

app = typer.Typer(no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Camera name (lowercase letters, digits, . _ -)."),
    url: str = typer.Option(..., "--url", help="rtsp://, http(s):// or file:/// stream URL."),
    site: str | None = typer.Option(None, "--site"),
    region: str | None = typer.Option(None, "--region"),
    lat: float | None = typer.Option(None, "--lat", help="Latitude, with --lon."),
    lon: float | None = typer.Option(None, "--lon", help="Longitude, with --lat."),
    group: str | None = typer.Option(None, "--group", help="Camera group (who may see it)."),
    analysis_fps: float | None = typer.Option(
        None, "--analysis-fps", help="Frames/s face analysis samples (default: the config's)."
    ),
    analysis_url: str | None = typer.Option(
        None,
        "--analysis-url",
        help="The camera's sub-stream (e.g. 640x360), recorded for face analysis alone; the "
        "main stream (--url) is recorded and played. Its login is the main URL's.",
    ),
    as_json: bool = JSON,
) -> None:
    """Register a camera; credentials in the URL are stored encrypted and never shown."""
    state: CliState = ctx.obj
    services = state.services()
    spec = CameraSpec(name, url, site, region, group, lat, lon, analysis_fps, analysis_url)
    info = services.cameras.add(state.context(services), spec)
    emit(info.to_dict(), as_json, lambda: console.print(f"added camera {info.name}: {info.url}"))


@app.command("list")
def list_cameras(ctx: typer.Context, as_json: bool = JSON) -> None:
    """All registered cameras."""
    state: CliState = ctx.obj
    services = state.services()
    found = services.cameras.list(state.context(services))
    rows = [(c.name, c.url, c.site, c.region, c.group, c.enabled) for c in found]
    emit(
        [c.to_dict() for c in found],
        as_json,
        lambda: table("Cameras", ("name", "url", "site", "region", "group", "enabled"), rows),
    )


@app.command("show")
def show(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """One camera's registration, health, recorded coverage and recent gaps."""
    state: CliState = ctx.obj
    services = state.services()
    context = state.context(services)
    info = services.cameras.show(context, name).to_dict()
    info.update(services.recordings.status(context, name))

    def human() -> None:
        for key, value in info.items():
            if key == "gaps":
                console.print(f"gaps: {len(value)} recent")
                for gap in value:
                    console.print(f"  {gap['start']} .. {gap['end'] or 'now'} ({gap['reason']})")
            elif isinstance(value, dict):
                console.print(f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
            else:
                console.print(f"{key}: {'' if value is None else value}")

    emit(info, as_json, human)


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Remove a camera from the registry."""
    state: CliState = ctx.obj
    services = state.services()
    services.cameras.remove(state.context(services), name)
    emit({"removed": name}, as_json, lambda: console.print(f"removed camera {name}"))


@app.command("enable")
def enable(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Record this camera again."""
    _set_enabled(ctx, name, enabled=True, as_json=as_json)


@app.command("disable")
def disable(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Stop recording this camera; its recordings are kept."""
    _set_enabled(ctx, name, enabled=False, as_json=as_json)


def _set_enabled(ctx: typer.Context, name: str, *, enabled: bool, as_json: bool) -> None:
    state: CliState = ctx.obj
    services = state.services()
    info = services.cameras.set_enabled(state.context(services), name, enabled=enabled)
    word = "enabled" if enabled else "disabled"
    emit(info.to_dict(), as_json, lambda: console.print(f"{word} camera {name}"))


@app.command("analysis-rate")
def analysis_rate(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    fps: float | None = typer.Argument(None, help="Frames per second; leave out for the default."),
    as_json: bool = JSON,
) -> None:
    """Set how many frames per second face analysis samples from this camera."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.cameras.set_analysis_fps(state.context(services), name, fps)
    rate = "the default rate" if fps is None else f"{fps:g} frames/s"
    emit(info.to_dict(), as_json, lambda: console.print(f"{name} is analysed at {rate}"))


@app.command("analysis-stream")
def analysis_stream(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    url: str | None = typer.Argument(
        None, help="The camera's sub-stream, without a login; leave out to analyse the recording."
    ),
    as_json: bool = JSON,
) -> None:
    """Set the stream face analysis reads from this camera (its sub-stream); the recorder
    switches within 10 s."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.cameras.set_analysis_url(state.context(services), name, url)
    source = info.analysis_url or "its recording"
    emit(info.to_dict(), as_json, lambda: console.print(f"{name} is analysed from {source}"))


@app.command("assign")
def assign(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    node: str | None = typer.Option(
        None, "--node", help="The cluster ingest node to record it; leave out for none."
    ),
    as_json: bool = JSON,
) -> None:
    """Choose the ingest node that records this camera (cluster mode); it starts within 10 s."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.cameras.assign(state.context(services), name, node)
    where = f"node {node}" if node else "no node"
    emit(info.to_dict(), as_json, lambda: console.print(f"{name} is recorded by {where}"))


FROM = typer.Option(..., "--from", help="Start, ISO 8601 with a time zone.")
TO = typer.Option(..., "--to", help="End, ISO 8601 with a time zone.")


@app.command("export")
def export(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    start: str = FROM,
    end: str = TO,
    out: Path = typer.Option(..., "--out", help="MP4 file to write."),
    recipient: str | None = typer.Option(None, "--for", help="Who it is handed to."),
    case: int | None = typer.Option(
        None,
        "--case",
        help="The case it is for: footage of a no-identification zone its approver "
        "acknowledged then keeps its faces (else every face is blurred).",
    ),
    subject: list[int] = typer.Option(
        [],
        "--only-subject",
        help="A sighting (id) of this camera whose person alone stays visible: every other "
        "face is blurred. Repeat it for each of their sightings in the range.",
    ),
    as_json: bool = JSON,
) -> None:
    """Export a recorded time range (at most an hour; with --only-subject, ten minutes) as
    one MP4, with its signed manifest beside it (OUT.manifest.json; 'vigil export verify'
    checks both; it records what was blurred); the export is audited."""
    state: CliState = ctx.obj
    services = state.services()
    span = TimeRange(parse_moment(start), parse_moment(end))
    clip = services.recordings.export(
        state.context(services), name, span, out.parent, recipient, case, tuple(subject)
    )
    shutil.move(clip.path, out)
    manifest = manifest_path(out)
    manifest.write_text(json.dumps(clip.manifest, indent=2) + "\n", encoding="utf-8")
    result = {
        "out": str(out),
        "manifest": str(manifest),
        "start": clip.start.isoformat(),
        "end": clip.end.isoformat(),
        "segments": clip.segments,
        "bytes": out.stat().st_size,
    }
    emit(result, as_json, lambda: console.print(f"wrote {out} ({clip.start} .. {clip.end})"))


@app.command("hold")
def hold(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    start: str = FROM,
    end: str = TO,
    reason: str = typer.Option(..., "--reason", help="Why the footage must be kept."),
    as_json: bool = JSON,
) -> None:
    """Keep a time range of a camera out of retention until the hold is released."""
    state: CliState = ctx.obj
    services = state.services()
    span = TimeRange(parse_moment(start), parse_moment(end))
    made = services.recordings.hold(state.context(services), name, span, reason)
    emit(made.to_dict(), as_json, lambda: console.print(f"hold {made.id} placed on {name}"))


@app.command("holds")
def holds(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Evidence holds in force."""
    state: CliState = ctx.obj
    services = state.services()
    found = services.recordings.holds(state.context(services))
    rows = [(h.id, h.camera, h.start, h.end, h.reason, h.created_by) for h in found]
    emit(
        [h.to_dict() for h in found],
        as_json,
        lambda: table("Holds", ("id", "camera", "start", "end", "reason", "by"), rows),
    )


@app.command("release")
def release(ctx: typer.Context, hold_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Release an evidence hold; retention then treats that footage like any other."""
    state: CliState = ctx.obj
    services = state.services()
    done = services.recordings.release(state.context(services), hold_id)
    emit(done.to_dict(), as_json, lambda: console.print(f"released hold {hold_id}"))


@app.command("grant")
def grant(
    ctx: typer.Context,
    group: str = typer.Argument(..., help="Camera group."),
    user: str = typer.Argument(..., help="User who may then watch the group's cameras."),
    as_json: bool = JSON,
) -> None:
    """Let a user watch and play back the cameras of a group."""
    state: CliState = ctx.obj
    services = state.services()
    services.groups.grant(state.context(services), group, user)
    emit(
        {"group": group, "user": user}, as_json, lambda: console.print(f"{user} may watch {group}")
    )


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    group: str = typer.Argument(...),
    user: str = typer.Argument(...),
    as_json: bool = JSON,
) -> None:
    """Take a user out of a camera group."""
    state: CliState = ctx.obj
    services = state.services()
    services.groups.revoke(state.context(services), group, user)
    emit({"group": group, "user": user}, as_json, lambda: console.print(f"{user} left {group}"))


@app.command("groups")
def groups(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Camera groups with their cameras and members."""
    state: CliState = ctx.obj
    services = state.services()
    found = services.groups.list(state.context(services))
    rows = [(g.name, ", ".join(g.cameras), ", ".join(g.members)) for g in found]
    emit(
        [g.to_dict() for g in found],
        as_json,
        lambda: table("Camera groups", ("group", "cameras", "members"), rows),
    )
