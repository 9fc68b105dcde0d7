"""``vigil audit``: verify, head, prove, consistency, list, check-proof."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from vigil.audit.entry import Outcome
from vigil.audit.log import EntryFilter
from vigil.audit.proofs import check_proof
from vigil.audit.signing import PUBLIC_KEY_FILE
from vigil.cli.files import signed_document
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.errors import AuditIntegrityError

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
def verify(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Recompute the whole log; exit non-zero naming the first bad entry if it was tampered with."""
    state: CliState = ctx.obj
    services = state.services()
    report = services.audit_service.verify(state.context(services))

    def human() -> None:
        if report.ok:
            console.print(
                f"audit log OK: {report.entries} entries, {report.heads} signed heads, "
                f"{report.covered} entries covered by a signed head"
            )

    emit(report.to_dict(), as_json, human)
    if not report.ok:
        if as_json:  # the report above is the one JSON document; the exit code says it failed
            raise typer.Exit(AuditIntegrityError.exit_code)
        first = report.first_bad_seq
        where = "" if first is None else f" at entry {first}"
        raise AuditIntegrityError(
            f"audit log FAILED verification{where}: {report.first_problem}",
            first_bad_entry=first,
            problems=report.problems,
        )


@app.command("head")
def head(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Print the latest signed tree head (signing one that covers everything so far)."""
    state: CliState = ctx.obj
    services = state.services()
    signed = services.audit_service.head(state.context(services)).to_dict()

    def human() -> None:
        for key in ("size", "time", "root", "signature"):
            console.print(f"{key}: {signed[key]}", soft_wrap=True)

    emit(signed, as_json, human)


@app.command("prove")
def prove(
    ctx: typer.Context,
    seq: int = typer.Argument(..., min=0, help="Position of the entry."),
    size: int | None = typer.Option(
        None, "--size", help="Size of the signed head (default latest)."
    ),
    as_json: bool = JSON,
) -> None:
    """Inclusion proof of one entry in a signed head; check it with 'vigil audit check-proof'."""
    state: CliState = ctx.obj
    services = state.services()
    proof = services.audit_service.inclusion(state.context(services), seq, size).to_dict()

    def human() -> None:
        console.print_json(data=proof)
        console.print(f"entry {seq} in the signed head of size {proof['head']['size']}")

    emit(proof, as_json, human)


@app.command("consistency")
def consistency(
    ctx: typer.Context,
    old: int = typer.Argument(..., min=0, help="Size of the older signed head."),
    new: int = typer.Argument(..., min=0, help="Size of the newer signed head."),
    as_json: bool = JSON,
) -> None:
    """Consistency proof between two signed heads: the newer log extends the older one."""
    state: CliState = ctx.obj
    services = state.services()
    proof = services.audit_service.consistency(state.context(services), old, new).to_dict()
    emit(proof, as_json, lambda: console.print_json(data=proof))


@app.command("list")
def list_entries(
    ctx: typer.Context,
    actor: str | None = typer.Option(None, "--actor"),
    action: str | None = typer.Option(None, "--action"),
    outcome: Outcome | None = typer.Option(None, "--outcome"),
    since: datetime | None = typer.Option(None, "--since", help="ISO 8601 time."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = JSON,
) -> None:
    """The newest audit entries, filtered (auditors and admins)."""
    state: CliState = ctx.obj
    services = state.services()
    since_us = None if since is None else int(since.timestamp() * 1_000_000)
    flt = EntryFilter(actor=actor, action=action, outcome=outcome, since_us=since_us, limit=limit)
    found = services.audit_service.entries(state.context(services), flt)
    rows = [(e.seq, e.to_dict()["time"], e.actor, e.action, e.target, e.outcome) for e in found]
    emit(
        [e.to_dict() for e in found],
        as_json,
        lambda: table("Audit log", ("seq", "time", "actor", "action", "target", "outcome"), rows),
    )


@app.command("check-proof")
def check_proof_file(
    ctx: typer.Context,
    proof_file: Path = typer.Argument(
        ..., help="JSON printed by 'prove --json' or 'consistency --json'."
    ),
    public_key: Path | None = typer.Option(
        None, "--public-key", help=f"PEM public key (default: {PUBLIC_KEY_FILE} in the data dir)."
    ),
    as_json: bool = JSON,
) -> None:
    """Check a proof offline, with the public key alone."""
    state: CliState = ctx.obj
    key, doc = signed_document(proof_file, public_key or state.data_dir / PUBLIC_KEY_FILE)
    statement = check_proof(doc, key)
    emit(
        {"ok": True, "statement": statement},
        as_json,
        lambda: console.print(f"proof OK: {statement}"),
    )
