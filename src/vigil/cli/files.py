"""Files people name on the command line, read with a clear error when they can't be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigil.audit.signing import load_public_key
from vigil.errors import InvalidInput, ProofError


def read_photos(paths: list[Path]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each photo, in the order given."""
    photos = []
    for path in paths:
        try:
            photos.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return photos


def write_file(out: Path, content: bytes) -> None:
    """Write whole or not at all: aside first, then renamed over ``out``."""
    aside = out.with_name(f".{out.name}.part")
    try:
        aside.write_bytes(content)
        aside.replace(out)
    except OSError as exc:
        aside.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None


def signed_document(document: Path, public_key: Path) -> tuple[Ed25519PublicKey, Any]:
    """The PEM public key and the JSON document to check with it (offline checks)."""
    try:
        key = load_public_key(public_key.read_bytes())
        doc = json.loads(document.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {exc.filename}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProofError(f"{document} is not JSON: {exc}") from exc
    return key, doc
