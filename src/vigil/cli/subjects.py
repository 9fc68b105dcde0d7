"""``vigil subject``: the requests of people on camera to learn what is held about them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import typer

from vigil.cli.files import read_photos, write_file
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.errors import InvalidInput
from vigil.subjects.report import Format
from vigil.subjects.requests import RequestInfo

app = typer.Typer(no_args_is_help=True)
FORMATS = ("html", "pdf", "json")


def _said(info: RequestInfo, as_json: bool, words: str) -> None:
    emit(info.to_dict(), as_json, lambda: console.print(f"subject request {info.id} {words}"))


@app.command("request")
def request(
    ctx: typer.Context,
    photos: list[Path] = typer.Option(..., "--photo", help="The requester's photo (1 to 5)."),
    reference: str = typer.Option(..., "--reference", help="Your file reference."),
    checked_by: str = typer.Option(
        ..., "--identity-checked-by", help="Who checked the requester's identity, and how."
    ),
    as_json: bool = JSON,
) -> None:
    """Take a person's request (data-protection officers); another person approves it."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.subjects.open(
        state.context(services),
        read_photos(photos),
        reference=reference,
        identity_checked_by=checked_by,
    )
    _said(info, as_json, "taken: it is searched once someone else approves it")


@app.command("approve")
def approve(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., help="The request."),
    restriction: str | None = typer.Option(
        None, "--restriction", help="A legal restriction of the watchlist part, with grounds."
    ),
    as_json: bool = JSON,
) -> None:
    """Approve another person's request: every camera's sightings are compared now."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.subjects.approve(state.context(services), request_id, restriction=restriction)
    _said(info, as_json, f"answered: {info.searched} sightings compared")


@app.command("reject")
def reject(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., help="The request."),
    reason: str = typer.Option(..., "--reason", help="Why."),
    as_json: bool = JSON,
) -> None:
    """Reject another person's request: nothing is searched."""
    state: CliState = ctx.obj
    services = state.services()
    _said(
        services.subjects.reject(state.context(services), request_id, reason), as_json, "rejected"
    )


@app.command("list")
def list_requests(ctx: typer.Context, as_json: bool = JSON) -> None:
    """The requests' records (no sightings)."""
    state: CliState = ctx.obj
    services = state.services()
    found = [r.to_dict() for r in services.subjects.list(state.context(services))]
    columns = ("id", "reference", "state", "requested_by", "decided_by", "sightings_found")
    emit(
        found,
        as_json,
        lambda: table("Subject requests", columns, [[r[c] for c in columns] for r in found]),
    )


@app.command("answer")
def answer(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., help="An answered request."),
    fmt: str = typer.Option("html", "--format", help="html, pdf or json (signed)."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    as_json: bool = JSON,
) -> None:
    """Write the answer for the requester (audited)."""
    if fmt not in FORMATS:
        raise InvalidInput("--format must be html, pdf or json")
    state: CliState = ctx.obj
    services = state.services()
    rendered = services.subject_reports.report(
        state.context(services), request_id, cast(Format, fmt)
    )
    write_file(out, rendered.content)
    data = {"request": request_id, "format": fmt, "out": str(out), "bytes": len(rendered.content)}
    emit(data, as_json, lambda: console.print(f"wrote the answer to request {request_id} to {out}"))


@app.command("erase")
def erase(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., help="An answered request."),
    as_json: bool = JSON,
) -> None:
    """Erase the face crops and descriptors the request found; what a hold, an open case's
    confirmed results or a watchlist entry in force keeps is listed with why."""
    state: CliState = ctx.obj
    services = state.services()
    done = services.erasure.erase(state.context(services), request_id)

    def said() -> None:
        console.print(f"request {request_id}: {len(done.erased)} sighting(s) erased")
        for sighting, why in sorted(done.kept.items()):
            console.print(f"  kept sighting {sighting}: {why}")

    emit(done.to_dict(), as_json, said)


@app.command("found")
def found(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., help="An answered request."),
    as_json: bool = JSON,
) -> None:
    """What the comparison found, for you to judge against the requester before answering."""
    state: CliState = ctx.obj
    services = state.services()
    listed = [
        f.to_dict() for f in services.subject_review.found(state.context(services), request_id)
    ]
    columns = ("sighting", "camera", "start", "end", "match", "estimated_fmr", "verdict")

    def shown(f: dict[str, Any], column: str) -> Any:  # beyond the match point: possible
        return ("yes" if f[column] else "possible") if column == "match" else f[column]

    emit(
        listed,
        as_json,
        lambda: table("Found", columns, [[shown(f, c) for c in columns] for f in listed]),
    )


@app.command("review")
def review(
    ctx: typer.Context,
    request_id: int = typer.Argument(..., help="An answered request."),
    confirm: str = typer.Option(
        "",
        "--confirm",
        help="The found sightings that show the requester, comma-separated; "
        "every other one is rejected.",
    ),
    as_json: bool = JSON,
) -> None:
    """Judge what was found, once: only confirmed sightings are answered and erased."""
    try:
        confirmed = [int(n) for n in confirm.split(",") if n.strip()]
    except ValueError:
        raise InvalidInput("--confirm takes sighting numbers, comma-separated") from None
    state: CliState = ctx.obj
    services = state.services()
    judged = services.subject_review.review(state.context(services), request_id, confirmed)
    done = [f.to_dict() for f in judged]
    kept = sum(f.verdict == "confirmed" for f in judged)
    emit(done, as_json, lambda: console.print(f"{kept} confirmed, {len(done) - kept} rejected"))
