"""``vigil user``: add, list, show, disable."""

from __future__ import annotations

import secrets
from pathlib import Path

import typer

from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState, read_secret_file

app = typer.Typer(no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(
        ..., "--role", help="admin, supervisor, investigator, operator, viewer or auditor."
    ),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="The new user's password (else one is generated)."
    ),
    as_json: bool = JSON,
) -> None:
    """Create a user account."""
    state: CliState = ctx.obj
    password = (
        secrets.token_urlsafe(18) if password_file is None else read_secret_file(password_file)
    )
    services = state.services()
    info = services.users.create(state.context(services), name, role, password)
    generated = password if password_file is None else None
    data = {**info.to_dict(), "password": generated}

    def human() -> None:
        console.print(f"created user {info.name} ({info.role})")
        if generated:
            console.print(f"password (shown once): {generated}")

    emit(data, as_json, human)


@app.command("list")
def list_users(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List user accounts."""
    state: CliState = ctx.obj
    services = state.services()
    found = services.users.list(state.context(services))
    rows = [(u.name, u.role, u.created_at.isoformat(timespec="seconds"), u.disabled) for u in found]
    emit(
        [u.to_dict() for u in found],
        as_json,
        lambda: table("Users", ("name", "role", "created", "disabled"), rows),
    )


@app.command("disable")
def disable(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON) -> None:
    """Disable an account: its sessions end and its tokens are revoked."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.users.disable(state.context(services), name)
    emit(info.to_dict(), as_json, lambda: console.print(f"disabled user {info.name}"))
