"""``vigil camera``: add, list, show, remove."""

from __future__ import annotations

import typer

from vigil.cameras.registry import CameraSpec
from vigil.cli.output import console, emit, table
from vigil.cli.state import CliState

app = typer.Typer(no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Machine-readable output.")


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
    as_json: bool = JSON,
) -> None:
    """Register a camera; credentials in the URL are stored encrypted and never shown."""
    state: CliState = ctx.obj
    services = state.services()
    spec = CameraSpec(name, url, site, region, group, lat, lon)
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
    """One camera's registration."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.cameras.show(state.context(services), name).to_dict()

    def human() -> None:
        for key, value in info.items():
            console.print(f"{key}: {'' if value is None else value}")

    emit(info, as_json, human)


@app.command("remove")
def remove(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Remove a camera from the registry."""
    state: CliState = ctx.obj
    services = state.services()
    services.cameras.remove(state.context(services), name)
    emit({"removed": name}, as_json, lambda: console.print(f"removed camera {name}"))
