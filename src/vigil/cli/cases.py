"""``vigil case``, ``vigil search``, ``vigil report``, ``vigil notices``: investigations."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import typer

from vigil.cli.files import read_photos, write_file
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.errors import InvalidInput
from vigil.investigations.cases import CaseInfo, CaseSpec
from vigil.investigations.report import Format
from vigil.times import parse_moment

app = typer.Typer(no_args_is_help=True)


def _names(value: str | None) -> list[str]:
    return [] if value is None else [n.strip() for n in value.split(",") if n.strip()]


def _said(info: CaseInfo, as_json: bool, words: str) -> None:
    emit(info.to_dict(), as_json, lambda: console.print(f"case {info.id} {words}"))


@app.command("open")
def open_case(
    ctx: typer.Context,
    subject: str = typer.Option(..., "--subject", help="Who is sought (a description)."),
    basis: str = typer.Option(..., "--basis", help="The legal basis for the search."),
    reference: str = typer.Option(..., "--reference", help="Warrant or file reference."),
    purpose: str = typer.Option(..., "--purpose", help="What the search is for."),
    cameras: str | None = typer.Option(None, "--cameras", help="Scope: cameras, comma-separated."),
    groups: str | None = typer.Option(None, "--groups", help="Scope: camera groups, instead."),
    start: str = typer.Option(..., "--from", help="Scope start, ISO 8601 with a time zone."),
    end: str = typer.Option(..., "--to", help="Scope end, ISO 8601 with a time zone."),
    expires: str = typer.Option(..., "--expires", help="When the case ends (ISO 8601)."),
    urgent: bool = typer.Option(
        False, "--urgent", help="Search before approval; sealed unless approved within 48 h."
    ),
    imports: bool = typer.Option(
        False, "--imports", help="Video files may be imported into it as evidence."
    ),
    as_json: bool = JSON,
) -> None:
    """Open a case; it can be searched once a supervisor who is not you approves it."""
    state: CliState = ctx.obj
    services = state.services()
    spec = CaseSpec(
        subject=subject,
        legal_basis=basis,
        reference=reference,
        purpose=purpose,
        start=parse_moment(start),
        end=parse_moment(end),
        expires=parse_moment(expires),
        cameras=_names(cameras),
        groups=_names(groups),
        urgent=urgent,
        imports=imports,
    )
    info = services.cases.open(state.context(services), spec)
    _said(info, as_json, "opened; it needs a supervisor's approval")


@app.command("approve")
def approve(
    ctx: typer.Context,
    case: int = typer.Argument(...),
    zones: str | None = typer.Option(
        None,
        "--zones",
        help="No-identification zones of its scope ('case show' lists them), comma-separated, "
        "whose footage its exports may show unblurred.",
    ),
    as_json: bool = JSON,
) -> None:
    """Approve someone else's case: its members may search within its scope until expiry."""
    state: CliState = ctx.obj
    services = state.services()
    numbers = [_zone_number(z) for z in _names(zones)]
    _said(services.cases.approve(state.context(services), case, numbers), as_json, "approved")


def _zone_number(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput(f"{text!r} is not a zone number", field="zones")
    return int(text)


@app.command("reject")
def reject(ctx: typer.Context, case: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Reject someone else's case (an urgent one's results are deleted)."""
    state: CliState = ctx.obj
    services = state.services()
    _said(services.cases.reject(state.context(services), case), as_json, "rejected")


@app.command("close")
def close(ctx: typer.Context, case: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """Close a case you are a member of: no more searches."""
    state: CliState = ctx.obj
    services = state.services()
    _said(services.cases.close(state.context(services), case), as_json, "closed")


@app.command("add-member")
def add_member(
    ctx: typer.Context,
    case: int = typer.Argument(...),
    user: str = typer.Argument(..., help="An investigator to add."),
    as_json: bool = JSON,
) -> None:
    """Let a colleague see and search the case."""
    state: CliState = ctx.obj
    services = state.services()
    info = services.cases.add_member(state.context(services), case, user)
    _said(info, as_json, f"now has {user} as a member")


@app.command("list")
def list_cases(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Your cases (supervisors: every case's record)."""
    state: CliState = ctx.obj
    services = state.services()
    found = [c.to_dict() for c in services.cases.list(state.context(services))]
    columns = ("id", "status", "subject", "reference", "requested_by", "decided_by", "expires_at")
    emit(found, as_json, lambda: table("Cases", columns, [[c[k] for k in columns] for c in found]))


@app.command("show")
def show(ctx: typer.Context, case: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """A case's record, and for members its results so far."""
    state: CliState = ctx.obj
    services = state.services()
    context = state.context(services)
    info: dict[str, Any] = services.cases.show(context, case).to_dict()
    if context.principal.name in info["members"]:
        info["results"] = [c.to_dict() for c in services.search.results(context, case)]

    def human() -> None:
        for key, value in info.items():
            if key not in ("results", "zones"):
                console.print(f"{key}: {'' if value is None else value}")
        for zone in info["zones"]:
            console.print(
                f"no-identification zone {zone['id']}: group {zone['group']}, "
                f"{zone['start']} .. {zone['end'] or 'until lifted'} ({zone['reason']})"
            )
        _results_table(info.get("results", []))

    emit(info, as_json, human)


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    case: int = typer.Argument(...),
    sightings: list[int] = typer.Argument(..., help="Sighting ids that show the subject."),
    as_json: bool = JSON,
) -> None:
    """Confirm results as the subject (you verify them); they make the movement report."""
    state: CliState = ctx.obj
    services = state.services()
    found = services.search.confirm(state.context(services), case, sightings)
    emit(
        [c.to_dict() for c in found],
        as_json,
        lambda: console.print(f"confirmed {len(found)} sightings in case {case}"),
    )


def _results_table(results: list[dict[str, Any]]) -> None:
    columns = ("sighting_id", "camera", "start", "end", "similarity", "match", "confirmed_by")
    table("Results", columns, [[r[c] for c in columns] for r in results])


def search(
    ctx: typer.Context,
    case: int = typer.Option(..., "--case", help="An approved case you are a member of."),
    photo: list[Path] = typer.Option(..., "--photo", help="Photo of the person; repeat for more."),
    limit: int = typer.Option(50, "--limit", help="Most results to return (1-200)."),
    low_quality: bool = typer.Option(
        False,
        "--low-quality",
        help="Use a photo below the reference quality bar; the search and its results are "
        "marked as made from a weak probe (audited).",
    ),
    as_json: bool = JSON,
) -> None:
    """Search the case's scope for a person by photo; audited, counted against your quota."""
    state: CliState = ctx.obj
    services = state.services()
    result = services.search.search(
        state.context(services), case, read_photos(photo), limit=limit, low_quality=low_quality
    )

    def human() -> None:
        _results_table([c.to_dict() for c in result.results])
        console.print(
            f"search {result.search_id}: {len(result.results)} candidates among "
            f"{result.in_scope} sightings in scope; confirm with 'vigil case confirm'"
        )
        if result.weak_probe:
            console.print("made from a photo below the quality bar: weak evidence, check each")

    emit(result.to_dict(), as_json, human)


def report(
    ctx: typer.Context,
    case: int = typer.Option(..., "--case", help="A case you are a member of."),
    fmt: str = typer.Option("html", "--format", help="html or pdf."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    as_json: bool = JSON,
) -> None:
    """Write the movement report of the case's confirmed sightings (audited)."""
    if fmt not in ("html", "pdf"):
        raise InvalidInput("--format must be html or pdf")
    state: CliState = ctx.obj
    services = state.services()
    rendered = services.reports.report(state.context(services), case, cast(Format, fmt))
    write_file(out, rendered.content)
    data = {"case": case, "format": fmt, "out": str(out), "bytes": len(rendered.content)}
    emit(data, as_json, lambda: console.print(f"wrote the report of case {case} to {out}"))


def notices(
    ctx: typer.Context,
    after: int = typer.Option(0, "--after", help="Only notices after this id."),
    as_json: bool = JSON,
) -> None:
    """Quota hits and unusual use of search (supervisors and auditors)."""
    state: CliState = ctx.obj
    services = state.services()
    found = [n.to_dict() for n in services.notices.list(state.context(services), after=after)]
    columns = ("id", "created_at", "kind", "user", "case_id", "message")
    emit(
        found, as_json, lambda: table("Notices", columns, [[n[c] for c in columns] for n in found])
    )
