"""Entry point of the ``vigil`` command: global options, sub-commands, one error handler."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from vigil.cli import (
    analyze,
    audit,
    cameras,
    cases,
    demo,
    faces,
    setup,
    sim,
    status,
    tokens,
    users,
    watchlists,
)
from vigil.cli.output import show_error
from vigil.cli.state import CliState
from vigil.errors import VigilError

app = typer.Typer(
    name="vigil",
    help="Vigil: accountable video surveillance. Every access is audited.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Path = typer.Option(
        Path("vigil-data"), "--data-dir", envvar="VIGIL_DATA_DIR", help="Vigil's data directory."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Act as this user (with --password-file)."
    ),
    password_file: Path | None = typer.Option(
        None, "--password-file", help="File holding --user's password ('-' reads standard input)."
    ),
) -> None:
    ctx.obj = CliState(data_dir=data_dir, user=user, password_file=password_file)


setup.register(app)
app.command("demo")(demo.demo)
app.command("analyze")(analyze.analyze)
app.command("status")(status.status)
app.command("search")(cases.search)
app.command("report")(cases.report)
app.command("notices")(cases.notices)
app.add_typer(users.app, name="user", help="User accounts.")
app.add_typer(tokens.app, name="token", help="API tokens.")
app.add_typer(audit.app, name="audit", help="The tamper-evident audit log.")
app.add_typer(cameras.app, name="camera", help="The camera registry.")
app.add_typer(faces.app, name="faces", help="Face detection and comparison on image files.")
app.add_typer(sim.app, name="sim", help="Simulated cameras for demos and tests.")
app.add_typer(watchlists.watchlist, name="watchlist", help="People to look for, on a legal basis.")
app.add_typer(watchlists.alerts, name="alerts", help="Matches, reviewed by two people.")
app.add_typer(cases.app, name="case", help="Investigations approved by a second person.")


def run() -> None:
    """Console entry: a Vigil error becomes a clear message (or JSON) and its exit code."""
    try:
        app()
    except VigilError as exc:
        show_error(exc, "--json" in sys.argv[1:])
        sys.exit(exc.exit_code)
