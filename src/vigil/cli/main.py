"""Entry point of the ``vigil`` command: global options, sub-commands, one error handler."""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

import typer

from vigil.cli import (
    analyze,
    audit,
    cameras,
    cases,
    cluster,
    crowds,
    demo,
    exports,
    faces,
    organisations,
    publications,
    setup,
    sim,
    status,
    subjects,
    tokens,
    transparency,
    users,
    watchlists,
)
from vigil.cli.output import show_error
from vigil.cli.state import CliState
from vigil.datadir import PRIVATE_UMASK
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
    _debug: bool = typer.Option(
        False, "--debug", help="Print the trace of an unexpected error (always in vigil.log)."
    ),
) -> None:
    ctx.obj = CliState(data_dir=data_dir, user=user, password_file=password_file)


setup.register(app)
app.command("demo")(demo.demo)
app.command("analyze")(analyze.analyze)
app.command("status")(status.status)
app.command("worker")(cluster.worker)
app.command("search")(cases.search)
app.command("report")(cases.report)
app.command("notices")(cases.notices)
app.command("usage")(organisations.usage)
app.add_typer(users.app, name="user", help="User accounts.")
app.add_typer(tokens.app, name="token", help="API tokens.")
app.add_typer(audit.app, name="audit", help="The tamper-evident audit log.")
app.add_typer(cameras.app, name="camera", help="The camera registry.")
app.add_typer(faces.app, name="faces", help="Face detection and comparison on image files.")
sim.app.command("city")(demo.city)
app.add_typer(sim.app, name="sim", help="Simulated cameras for demos and tests.")
app.add_typer(watchlists.watchlist, name="watchlist", help="People to look for, on a legal basis.")
app.add_typer(watchlists.alerts, name="alerts", help="Matches, reviewed by two people.")
app.add_typer(cases.app, name="case", help="Investigations approved by a second person.")
app.add_typer(transparency.app, name="transparency", help="How Vigil was used: signed counts.")
app.add_typer(exports.app, name="export", help="Exported clips and their signed manifests.")
app.add_typer(
    publications.app, name="publication", help="Cameras on the public page (faces blurred)."
)
app.add_typer(
    organisations.app, name="org", help="Third parties: their keys, redacted and metered."
)
app.add_typer(crowds.events, name="event", help="Events: people counted, never identified.")
app.add_typer(crowds.zones, name="zone", help="No-identification zones (two people).")
app.add_typer(subjects.app, name="subject", help="People on camera: what is held about them.")


def run() -> None:
    """Console entry: a Vigil error becomes a clear message (or JSON) and its exit code.

    Anything else is a bug: one line says so and where its trace was written (the data
    directory's ``vigil.log``); ``--debug`` (or VIGIL_DEBUG=1) prints the trace too.
    """
    args = sys.argv[1:]
    os.umask(PRIVATE_UMASK)  # whatever Vigil writes is its owner's alone
    try:
        app()
    except VigilError as exc:
        show_error(exc, "--json" in args)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the top of the command: one line, trace kept
        trace = traceback.format_exc()
        where = _keep_trace(trace, args)
        if "--debug" in args or os.environ.get("VIGIL_DEBUG") == "1":
            sys.stderr.write(trace)
        first = (str(exc).splitlines() or [""])[0]
        failure = VigilError(
            f"unexpected {type(exc).__name__}: {first} (the trace is in {where}; --debug prints it)"
        )
        show_error(failure, "--json" in args)
        sys.exit(UNEXPECTED_EXIT)


UNEXPECTED_EXIT = 70  # EX_SOFTWARE


def _keep_trace(trace: str, args: list[str]) -> Path:
    """Append the trace to the data directory's log (or the temp dir's when there is none)."""
    data_dir = Path(os.environ.get("VIGIL_DATA_DIR", "vigil-data"))
    for i, arg in enumerate(args[:-1]):
        if arg == "--data-dir":
            data_dir = Path(args[i + 1])
    log = (data_dir if data_dir.is_dir() else Path(tempfile.gettempdir())) / "vigil.log"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with log.open("a", encoding="utf-8") as out:
        out.write(f"{stamp} vigil {' '.join(args)}\n{trace}\n")
    return log
