"""``vigil transparency``: the signed report of how Vigil was used, and its check."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from vigil.audit.signing import PUBLIC_KEY_FILE
from vigil.audit.transparency import Period, render_html, render_pdf, verify_report
from vigil.cli.files import signed_document
from vigil.cli.output import JSON, console, emit
from vigil.cli.state import CliState
from vigil.errors import InvalidInput, ProofError
from vigil.times import parse_moment

app = typer.Typer(no_args_is_help=True)


@app.command("report")
def report(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="Start, ISO 8601 with a time zone."),
    end: str = typer.Option(..., "--to", help="End (not included), ISO 8601 with a time zone."),
    fmt: str = typer.Option("html", "--format", help="html, pdf or json (the signed form)."),
    out: Path = typer.Option(..., "--out", help="File to write."),
) -> None:
    """Counts of cases, searches, watchlist entries, alerts and public cameras in the period,
    from the audit log; anchored to a signed tree head and signed (auditors, admins)."""
    if fmt not in ("html", "pdf", "json"):
        raise InvalidInput(f"--format must be html, pdf or json, not {fmt!r}")
    state: CliState = ctx.obj
    services = state.services()
    period = Period(parse_moment(start), parse_moment(end))
    signed = services.transparency.report(state.context(services), period)
    if fmt == "pdf":
        out.write_bytes(render_pdf(signed, services.times))
    else:
        text = (
            render_html(signed, services.times)
            if fmt == "html"
            else json.dumps(signed, indent=2) + "\n"
        )
        out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")


@app.command("publish")
def publish(
    ctx: typer.Context,
    month: str = typer.Option(..., "--month", help="YYYY-MM, ended, in the city's time zone."),
    as_json: bool = JSON,
) -> None:
    """Publish the month's signed report for anyone to read at /transparency (auditors; once,
    after the month has ended); audited."""
    state: CliState = ctx.obj
    services = state.services()
    published = services.transparency_reports.publish(state.context(services), month)
    emit(published.summary(), as_json, lambda: console.print(f"published the report of {month}"))


@app.command("verify")
def verify(
    ctx: typer.Context,
    signed: Path = typer.Argument(..., help="The report as JSON (--format json)."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help=f"PEM public key (default: {PUBLIC_KEY_FILE} in the data dir)."
    ),
) -> None:
    """Check a report's signature offline, with the public key alone (exit 11 if changed)."""
    state: CliState = ctx.obj
    key, doc = signed_document(signed, public_key or state.data_dir / PUBLIC_KEY_FILE)
    if not isinstance(doc, dict):
        raise ProofError(f"{signed} is not a transparency report")
    verify_report(doc, key)
    console.print(f"report OK: {doc['period']['from']} .. {doc['period']['to']}")
