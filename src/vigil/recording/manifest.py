"""Signed export manifests: what left Vigil, for whom, on whose authority, and its hash.

Every exported clip comes with a manifest: the camera, the time range, the file's SHA-256
and size, who exported it and for whom, when, and the position of the audit entry that
records that very file (its hash is in the entry's details), and what was done to the faces
in it (``Redaction``: none, every face blurred, or every face but the subject's sightings).
The manifest is signed with
Vigil's Ed25519 key (the audit log's), over its canonical JSON behind a context of its own,
so a recipient checks it offline with the public key alone (``vigil export verify``), and
one changed byte, in the file or the manifest, fails the check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.signing import SigningKey, sign_statement, verify_statement
from vigil.auth.access import Access
from vigil.auth.roles import RequestContext
from vigil.errors import ProofError
from vigil.store.models import AuditRow

MANIFEST_CONTEXT = b"vigil-export-manifest-v1\x00"
FILE_ACTION = "recording.export.file"
FIELDS = (
    "camera",
    "start",
    "end",
    "segments",
    "file_sha256",
    "file_bytes",
    "exported_by",
    "exported_for",
    "exported_at",
    "audit_entry",
    "redaction",
)
# Manifests signed before exports said their redaction verify still.
FIELDS_V1 = tuple(f for f in FIELDS if f != "redaction")
CHUNK = 1 << 20
AS_RECORDED, EVERY_FACE, ALL_BUT_SUBJECT = "none", "every face blurred", "all but the subject"


@dataclass(frozen=True, slots=True)
class Redaction:
    """What an export's faces went through, and the sightings left visible (the subject's)."""

    faces: str  # AS_RECORDED, EVERY_FACE or ALL_BUT_SUBJECT
    visible_sightings: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"faces": self.faces, "visible_sightings": list(self.visible_sightings)}


def file_digest(path: Path) -> tuple[str, int]:
    """The file's SHA-256 (hex) and its size in bytes."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def sign_manifest(key: SigningKey, fields: dict[str, Any]) -> dict[str, Any]:
    """The manifest: the fields (exactly FIELDS), and their signature."""
    if set(fields) != set(FIELDS):
        raise ValueError(f"a manifest has exactly the fields {', '.join(FIELDS)}")
    return sign_statement(key, MANIFEST_CONTEXT, fields)


def export_manifest(
    access: Access,
    key: SigningKey,
    ctx: RequestContext,
    camera: str,
    start: datetime,
    end: datetime,
    segments: int,
    path: Path,
    recipient: str | None,
    redaction: Redaction,
) -> dict[str, Any]:
    """Record the exported file (``recording.export.file``, with its hash) and return its
    signed manifest, which cites that audit entry."""
    digest, size = file_digest(path)
    fields: dict[str, Any] = {
        "camera": camera,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "segments": segments,
        "file_sha256": digest,
        "file_bytes": size,
        "exported_by": ctx.principal.name,
        "exported_for": recipient,
        "exported_at": datetime.now(UTC).isoformat(),
        "redaction": redaction.to_dict(),
    }
    seq = access.record_alone(ctx, FILE_ACTION, f"camera:{camera}", fields)
    return sign_manifest(key, {**fields, "audit_entry": seq})


def verify_export(path: Path, manifest: Any, public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The manifest's fields when its signature holds and the file is the one it names;
    ProofError (saying what failed) otherwise."""
    kinds = ({*FIELDS, "signature"}, {*FIELDS_V1, "signature"})
    if not isinstance(manifest, dict) or set(manifest) not in kinds:
        raise ProofError(f"not an export manifest: it needs the fields {', '.join(FIELDS)}")
    fields = verify_statement(public_key, MANIFEST_CONTEXT, manifest, what="the manifest")
    digest, size = file_digest(path)
    if (digest, size) != (fields["file_sha256"], fields["file_bytes"]):
        raise ProofError(
            f"{path.name} is not the exported file: SHA-256 {digest} ({size} bytes), "
            f"the manifest says {fields['file_sha256']} ({fields['file_bytes']} bytes)"
        )
    return fields


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """An exported file as the audit log recorded it."""

    audit_entry: int
    camera: str
    start: datetime
    end: datetime


def export_of(session: Session, digest: str) -> ExportRecord | None:
    """The Vigil export whose file has this SHA-256 (hex), or None: every export's hash is
    in its ``recording.export.file`` audit entry."""
    rows = session.execute(
        select(AuditRow.seq, AuditRow.details)
        .where(AuditRow.action == FILE_ACTION, AuditRow.details.contains(digest))
        .order_by(AuditRow.seq)
    )
    for seq, details in rows:
        fields = json.loads(details)
        if fields.get("file_sha256") == digest:
            start, end = (datetime.fromisoformat(fields[k]) for k in ("start", "end"))
            return ExportRecord(int(seq), str(fields["camera"]), start, end)
    return None
