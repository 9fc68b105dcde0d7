"""How commands print: rich text for people, one JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from vigil.errors import VigilError

console = Console(highlight=False)
JSON = typer.Option(False, "--json", help="Machine-readable output.")  # every command's
errors = Console(stderr=True, highlight=False)


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        sys.stdout.flush()  # a command that then runs on (vigil demo) is read by now
    else:
        human()


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if v is None else str(v) for v in row))
    console.print(grid)


def show_error(exc: VigilError, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"error": exc.to_dict()}, default=str) + "\n")
    else:
        errors.print(f"[bold red]error:[/] {exc.message}", markup=True, soft_wrap=True)
