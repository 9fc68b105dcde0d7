"""``vigil event`` and ``vigil zone``: crowds counted, never identified."""

from __future__ import annotations

import typer

from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.crowds.events import EventSpec
from vigil.errors import InvalidInput
from vigil.times import parse_moment

events = typer.Typer(no_args_is_help=True)
zones = typer.Typer(no_args_is_help=True)


def _limits(values: list[str]) -> dict[str, int]:
    limits = {}
    for value in values:
        camera, _, people = value.partition("=")
        if not camera or not people.isdigit():
            raise InvalidInput(f"--limit takes CAMERA=PEOPLE, not {value!r}")
        limits[camera] = int(people)
    return limits


@events.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    group: str = typer.Option(..., "--group", help="Its cameras: a camera group."),
    start: str = typer.Option(..., "--from", help="ISO 8601 with a time zone."),
    end: str = typer.Option(..., "--to", help="ISO 8601 with a time zone."),
    limit: list[str] = typer.Option([], "--limit", help="CAMERA=PEOPLE (repeat)."),
    total: int | None = typer.Option(None, "--total-limit", help="People on all its cameras."),
    as_json: bool = JSON,
) -> None:
    """An event: a camera group over a time window, with occupancy limits."""
    state: CliState = ctx.obj
    services = state.services()
    spec = EventSpec(name, group, parse_moment(start), parse_moment(end), _limits(limit), total)
    info = services.events.create(state.context(services), spec)
    emit(info.to_dict(), as_json, lambda: console.print(f"event {info.id} ({name}) created"))


@events.command("list")
def list_events(ctx: typer.Context, as_json: bool = JSON) -> None:
    state: CliState = ctx.obj
    services = state.services()
    found = [e.to_dict() for e in services.events.list(state.context(services))]
    columns = ("id", "name", "group", "start", "end", "total_limit")
    emit(found, as_json, lambda: table("Events", columns, [[e[c] for c in columns] for e in found]))


@events.command("show")
def show(ctx: typer.Context, event: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """How many people are where now, the peak, and the occupancy alerts."""
    state: CliState = ctx.obj
    services = state.services()
    view = services.events.show(state.context(services), event)

    def human() -> None:
        rows = [[c["name"], c["people"], c["limit"], c["peak"]] for c in view["cameras"]]
        table(view["name"], ("camera", "people now", "limit", "peak"), rows)
        peak = view["total"]["peak"]
        console.print(
            f"total now: {view['total']['people']}; peak: "
            + ("none yet" if peak is None else f"{peak['people']} at {peak['at']}")
        )
        for alert in view["alerts"]:
            console.print(f"over the limit: {alert['place']} {alert['people']} > {alert['limit']} "
                          f"at {alert['at']}")  # fmt: skip

    emit(view, as_json, human)


@zones.command("propose")
def propose(
    ctx: typer.Context,
    reason: str = typer.Option(..., "--reason", help="Why no one may be identified there."),
    group: str | None = typer.Option(None, "--group"),
    event: str | None = typer.Option(None, "--event", help="An event's group and window."),
    start: str | None = typer.Option(None, "--from"),
    end: str | None = typer.Option(None, "--to", help="Omit: until lifted."),
    as_json: bool = JSON,
) -> None:
    """Propose marking a group (or an event) "no identification"; a supervisor approves."""
    state: CliState = ctx.obj
    services = state.services()
    zone = services.zones.propose(
        state.context(services), reason, group=group, event=event,
        start=None if start is None else parse_moment(start),
        end=None if end is None else parse_moment(end),
    )  # fmt: skip
    emit(zone.to_dict(), as_json, lambda: console.print(f"zone {zone.id} proposed"))


def _step(name: str, done: str) -> None:
    def command(ctx: typer.Context, zone: int = typer.Argument(...), as_json: bool = JSON) -> None:
        state: CliState = ctx.obj
        services = state.services()
        info = getattr(services.zones, name)(state.context(services), zone)
        emit(info.to_dict(), as_json, lambda: console.print(f"zone {zone} {done}"))

    command.__doc__ = f"Zone: {done}."
    zones.command(name.replace("_", "-"))(command)


_step("approve", "is in force: faces are not analysed there")
_step("propose_lift", "lifting proposed")
_step("approve_lift", "lifted: faces are analysed again")


@zones.command("list")
def list_zones(ctx: typer.Context, as_json: bool = JSON) -> None:
    state: CliState = ctx.obj
    services = state.services()
    found = [z.to_dict() for z in services.zones.list(state.context(services))]
    columns = ("id", "group", "event", "start", "end", "status", "reason")
    emit(found, as_json, lambda: table("No-identification zones", columns,
                                       [[z[c] for c in columns] for z in found]))  # fmt: skip
