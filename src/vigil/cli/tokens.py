"""``vigil token``: create, list, revoke."""

from __future__ import annotations

import typer

from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    user: str = typer.Option(..., "--user", help="Whose token."),
    expires_days: int | None = typer.Option(None, "--expires-days", help="Days until it expires."),
    label: str = typer.Option("", "--label", help="What the token is for."),
    as_json: bool = JSON,
) -> None:
    """Create an API token; the secret is printed now and never again."""
    state: CliState = ctx.obj
    services = state.services()
    info, secret = services.tokens.create(
        state.context(services), user, expires_days=expires_days, label=label
    )

    def human() -> None:
        console.print(f"token {info.id} for {info.user}, expires {info.expires_at.isoformat()}")
        console.print(secret, soft_wrap=True)

    emit({**info.to_dict(), "token": secret}, as_json, human)


@app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: str | None = typer.Option(None, "--user", help="Whose tokens ('*' for everyone's)."),
    as_json: bool = JSON,
) -> None:
    """List API tokens (never their secrets)."""
    state: CliState = ctx.obj
    services = state.services()
    found = services.tokens.list(state.context(services), user)
    rows = [
        (t.id, t.user, t.label, t.expires_at.isoformat(timespec="seconds"), t.revoked)
        for t in found
    ]
    emit(
        [t.to_dict() for t in found],
        as_json,
        lambda: table("API tokens", ("id", "user", "label", "expires", "revoked"), rows),
    )


@app.command("revoke")
def revoke(ctx: typer.Context, token_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Revoke an API token at once."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.tokens.revoke(state.context(services), token_id)
    emit(info.to_dict(), as_json, lambda: console.print(f"revoked token {info.id} of {info.user}"))
