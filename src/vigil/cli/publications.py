"""``vigil publication``: cameras on the public page, by two people's decision."""

from __future__ import annotations

import typer

from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState

app = typer.Typer(no_args_is_help=True)


@app.command("propose")
def propose(
    ctx: typer.Context,
    camera: str = typer.Argument(..., help="The camera to broadcast."),
    reason: str = typer.Option(..., "--reason", help="Why the public should see it."),
    as_json: bool = JSON,
) -> None:
    """Propose a camera for the public page (an admin); a supervisor must approve it."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.publications.propose(state.context(services), camera, reason)
    emit(
        info.to_dict(),
        as_json,
        lambda: console.print(f"publication {info.id} of {camera} proposed; it needs approval"),
    )


@app.command("approve")
def approve(
    ctx: typer.Context, publication: int = typer.Argument(...), as_json: bool = JSON
) -> None:
    """Approve another person's proposal: the camera is public (redacted, delayed) now."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.publications.approve(state.context(services), publication)
    emit(info.to_dict(), as_json, lambda: console.print(f"{info.camera} is public"))


@app.command("withdraw")
def withdraw(
    ctx: typer.Context, publication: int = typer.Argument(...), as_json: bool = JSON
) -> None:
    """Take the camera off the public page now; its public streams end within seconds."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.publications.withdraw(state.context(services), publication)
    emit(info.to_dict(), as_json, lambda: console.print(f"{info.camera} is no longer public"))


@app.command("list")
def list_publications(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Proposed, public and withdrawn cameras, with who decided."""
    state: CliState = ctx.obj
    services = state.services()
    found = [p.to_dict() for p in services.publications.list(state.context(services))]
    columns = ("id", "camera", "status", "proposed_by", "approved_by", "withdrawn_by", "reason")
    emit(
        found,
        as_json,
        lambda: table("Publications", columns, [[p[c] for c in columns] for p in found]),
    )
