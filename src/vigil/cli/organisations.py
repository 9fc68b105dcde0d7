"""``vigil org`` and ``vigil usage``: third parties, their keys and what they used."""

from __future__ import annotations

from pathlib import Path

import typer

from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.errors import InvalidInput
from vigil.partners.organisations import KeySpec
from vigil.times import parse_moment

app = typer.Typer(no_args_is_help=True)


@app.command("register")
def register(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Short name: lower-case letters, digits, '._-'."),
    title: str = typer.Option(..., "--title", help="Its name as the watermark writes it."),
    purpose: str = typer.Option(..., "--purpose", help="Why it is given access."),
    as_json: bool = JSON,
) -> None:
    """Register an organisation (an insurer, a utility, a broadcaster); admins only."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.partners.register(state.context(services), name, title, purpose)
    emit(info.to_dict(), as_json, lambda: console.print(f"organisation {name} registered"))


@app.command("key")
def issue_key(
    ctx: typer.Context,
    organisation: str = typer.Argument(...),
    cameras: list[str] = typer.Option(..., "--camera", help="A camera it reaches (repeat)."),
    start: str = typer.Option(..., "--from", help="Valid from, ISO 8601 with a time zone."),
    end: str = typer.Option(..., "--to", help="Valid until, ISO 8601 with a time zone."),
    quota_minutes: float = typer.Option(
        ..., "--quota-minutes", help="Minutes of video, watched and exported together."
    ),
    label: str = typer.Option("", "--label"),
    as_json: bool = JSON,
) -> None:
    """Issue a key; its secret is printed once, and never again. It works once a supervisor
    of its cameras' groups approves it ('vigil org approve KEY')."""
    state: CliState = ctx.obj
    services = state.services()
    spec = KeySpec(
        cameras, parse_moment(start), parse_moment(end), round(quota_minutes * 60), label
    )
    info, secret = services.partners.issue(state.context(services), organisation, spec)

    def human() -> None:
        console.print(f"key {info.id} for {organisation}: {', '.join(info.cameras)}")
        console.print("it works once a supervisor of those cameras approves it")
        console.print("its secret (shown once; send it to the organisation safely):")
        typer.echo(secret)

    emit({"key": info.to_dict(), "secret": secret}, as_json, human)


@app.command("approve")
def approve(ctx: typer.Context, key: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Approve a key someone else issued (a supervisor of its cameras' groups): it works."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.partners.approve(state.context(services), key)
    emit(info.to_dict(), as_json, lambda: console.print(f"key {key} is approved"))


@app.command("revoke")
def revoke(ctx: typer.Context, key: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Revoke a key (its issuer's side or its approver's): its open streams end within
    seconds."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.partners.revoke(state.context(services), key)
    emit(info.to_dict(), as_json, lambda: console.print(f"key {key} is revoked"))


@app.command("list")
def list_organisations(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Organisations and their keys, with what each key has used."""
    state: CliState = ctx.obj
    services = state.services()
    found = [o.to_dict() for o in services.partners.list(state.context(services))]
    columns = ("organisation", "key", "status", "cameras", "valid_until", "used_s", "quota_s")
    rows = [
        [o["name"], k["id"], k["status"], ", ".join(k["cameras"]), k["valid_until"],
         k["used_s"], k["quota_s"]]
        for o in found
        for k in o["keys"] or [{"id": "", "status": "no key", "cameras": [], "valid_until": "",
                                "used_s": "", "quota_s": ""}]
    ]  # fmt: skip
    emit(found, as_json, lambda: table("Organisations", columns, rows))


def usage(
    ctx: typer.Context,
    organisation: str = typer.Option(..., "--org", help="The organisation's short name."),
    month: str = typer.Option(..., "--month", help="YYYY-MM"),
    fmt: str = typer.Option("table", "--format", help="table, csv or json."),
    out: Path | None = typer.Option(None, "--out", help="Write CSV or JSON to this file."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output (--format json)."),
) -> None:
    """Seconds of video an organisation watched and exported in a month (CSV, JSON too)."""
    if as_json:
        if fmt not in ("table", "json"):
            raise InvalidInput(f"--json and --format {fmt} ask for two formats: give one")
        fmt = "json"
    if fmt not in ("table", "csv", "json"):
        raise InvalidInput(f"--format must be table, csv or json, not {fmt!r}")
    if out is not None and fmt == "table":
        raise InvalidInput("--out writes csv or json: add --format csv or --format json")
    state: CliState = ctx.obj
    services = state.services()
    report = services.metering.usage(state.context(services), organisation, month)
    if fmt == "table":
        columns = ("key", "label", "camera", "kind", "sessions", "seconds", "bytes")
        rows = [
            [line.key, line.label, line.camera, line.kind, line.sessions, f"{line.seconds:.1f}",
             line.bytes]
            for line in report.lines
        ]  # fmt: skip
        table(f"{report.title}, {month}", columns, rows)
        console.print(
            f"watched {report.watched_s / 60:.2f} min; {report.exports} exports, "
            f"{report.exported_s / 60:.2f} min"
        )
        return
    text = report.to_csv() if fmt == "csv" else report.to_json()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
