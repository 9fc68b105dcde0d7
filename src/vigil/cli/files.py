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


MAX_DOCUMENT = 16 << 20  # a manifest or a transparency report is far smaller
MAX_DIGITS = 40  # more digits than any number Vigil signs


def signed_document(document: Path, public_key: Path) -> tuple[Ed25519PublicKey, Any]:
    """The PEM public key and the JSON document to check with it (offline checks).

    The document is read strictly: a key given twice (a reader keeping the first would see
    other fields than those verified), NaN or Infinity, a number of over MAX_DIGITS digits
    or nesting too deep for the reader is a ProofError, never an unexpected crash."""
    try:
        key = load_public_key(public_key.read_bytes())
        if document.stat().st_size > MAX_DOCUMENT:
            raise InvalidInput(f"{document} is over {MAX_DOCUMENT >> 20} MiB: not a Vigil document")
        text = document.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {exc.filename}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ProofError(f"{document} is not JSON: {exc}") from exc
    return key, strict_json(text, document.name)


def strict_json(text: str, name: str) -> Any:
    """``text`` as JSON, read strictly (see ``signed_document``); ProofError otherwise."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_int=_bounded(int),
            parse_float=_bounded(float),
            parse_constant=_refused_constant,
        )
    except json.JSONDecodeError as exc:
        raise ProofError(f"{name} is not JSON: {exc}") from exc
    except RecursionError:
        raise ProofError(f"{name} is nested too deeply to be a Vigil document") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ProofError(f"the key {key!r} is given twice: which one counts is unclear")
        found[key] = value
    return found


def _bounded(kind: type[int] | type[float]) -> Any:
    def parse(digits: str) -> int | float:
        if len(digits) > MAX_DIGITS:
            raise ProofError(f"a number of {len(digits)} characters is not one Vigil signs")
        return kind(digits)

    return parse


def _refused_constant(name: str) -> Any:
    raise ProofError(f"{name} is not a JSON number")
