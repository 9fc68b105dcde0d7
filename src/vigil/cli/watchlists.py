"""``vigil watchlist`` and ``vigil alerts``: entries with a legal basis, reviewed alerts."""

from __future__ import annotations

from pathlib import Path

import typer

from vigil.cli.files import read_photos
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.times import parse_moment

watchlist = typer.Typer(no_args_is_help=True)
alerts = typer.Typer(no_args_is_help=True)


@watchlist.command("add")
def add(
    ctx: typer.Context,
    label: str = typer.Argument(..., help="Who this is (a name or a description)."),
    photo: list[Path] = typer.Option(..., "--photo", help="Reference photo; repeat for more."),
    basis: str = typer.Option(..., "--basis", help="The legal basis for looking for them."),
    reference: str = typer.Option(..., "--reference", help="Warrant or case reference."),
    expires: str = typer.Option(..., "--expires", help="When the entry ends (ISO 8601)."),
    as_json: bool = JSON,
) -> None:
    """Propose an entry; it matches nothing until another person (a supervisor) approves."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.watchlists.propose(
        state.context(services),
        label,
        read_photos(photo),
        basis=basis,
        reference=reference,
        expires=parse_moment(expires),
    )
    emit(
        info.to_dict(),
        as_json,
        lambda: console.print(f"watchlist entry {info.id} proposed; it needs approval"),
    )


@watchlist.command("approve")
def approve(ctx: typer.Context, entry: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Approve someone else's entry; from now until it expires, sightings are matched."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.watchlists.approve(state.context(services), entry)
    emit(info.to_dict(), as_json, lambda: console.print(f"watchlist entry {entry} approved"))


@watchlist.command("expire")
def expire(ctx: typer.Context, entry: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """End an entry now."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.watchlists.end(state.context(services), entry)
    emit(info.to_dict(), as_json, lambda: console.print(f"watchlist entry {entry} ended"))


@watchlist.command("list")
def list_entries(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Entries with their basis, reference, approval and expiry."""
    state: CliState = ctx.obj
    services = state.services()
    found = [e.to_dict() for e in services.watchlists.list(state.context(services))]
    columns = ("id", "label", "status", "reference", "created_by", "approved_by", "expires_at")
    emit(
        found,
        as_json,
        lambda: table("Watchlist", columns, [[e[c] for c in columns] for e in found]),
    )


@alerts.command("list")
def list_alerts(
    ctx: typer.Context,
    state_filter: str | None = typer.Option(None, "--state", help="pending, confirmed, ..."),
    as_json: bool = JSON,
) -> None:
    """Alerts, newest first, and how many were rejected as false matches."""
    state: CliState = ctx.obj
    services = state.services()
    found, rejected = services.alerts.list(state.context(services), state_filter)
    rows = [a.to_dict() for a in found]
    columns = ("id", "state", "label", "camera", "seen_at", "similarity", "estimated_fmr")

    def human() -> None:
        table("Alerts", columns, [[r[c] for c in columns] for r in rows])
        console.print(f"false matches rejected so far: {rejected}")

    emit({"alerts": rows, "rejected_total": rejected}, as_json, human)


@alerts.command("confirm")
def confirm(ctx: typer.Context, alert: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Confirm a match; a second, different person's confirmation makes it actionable."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.alerts.confirm(state.context(services), alert)
    emit(info.to_dict(), as_json, lambda: console.print(f"alert {alert} is {info.state}"))


@alerts.command("reject")
def reject(ctx: typer.Context, alert: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Reject a match as a false match (it stays on record and is counted)."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.alerts.reject(state.context(services), alert)
    emit(info.to_dict(), as_json, lambda: console.print(f"alert {alert} rejected"))
