"""``vigil export verify``: check an exported clip against its signed manifest, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from vigil.audit.signing import PUBLIC_KEY_FILE
from vigil.cli.files import signed_document
from vigil.cli.output import console, emit
from vigil.cli.state import CliState
from vigil.errors import InvalidInput
from vigil.recording.manifest import verify_export

app = typer.Typer(no_args_is_help=True)


def manifest_path(clip: Path) -> Path:
    """Where ``vigil camera export`` writes a clip's manifest: beside it."""
    return clip.with_name(clip.name + ".manifest.json")


@app.command("verify")
def verify(
    ctx: typer.Context,
    clip: Path = typer.Argument(..., help="The exported MP4."),
    manifest: Path = typer.Argument(..., help="Its manifest (JSON)."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help=f"PEM public key (default: {PUBLIC_KEY_FILE} in the data dir)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Check that the manifest is signed by Vigil and names this very file (exit 11 if not);
    needs the public key alone, no database and no network."""
    state: CliState = ctx.obj
    key, doc = signed_document(manifest, public_key or state.data_dir / PUBLIC_KEY_FILE)
    if not clip.is_file():
        raise InvalidInput(f"cannot read {clip}: no such file")
    fields = verify_export(clip, doc, key)
    emit(
        {"ok": True, **fields},
        as_json,
        lambda: console.print(
            f"export OK: {fields['camera']} {fields['start']} .. {fields['end']}, exported by "
            f"{fields['exported_by']} for {fields['exported_for'] or 'no one named'} "
            f"(audit entry {fields['audit_entry']})"
        ),
    )
