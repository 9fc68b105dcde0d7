"""Checking a proof document with nothing but the log's public key (no database, no Vigil)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from vigil.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from vigil.audit.signing import TreeHead, unb64, verify_head
from vigil.errors import ProofError


def _paths(doc: dict[str, Any]) -> list[bytes]:
    path = doc.get("path")
    if not isinstance(path, list):
        raise ProofError("proof has no 'path' list")
    return [unb64(p, what="path node") for p in path]


def _head(doc: dict[str, Any], key: str) -> TreeHead:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise ProofError(f"proof has no {key!r} tree head")
    return TreeHead.from_dict(value)


def check_proof(doc: Any, public_key: Ed25519PublicKey) -> str:
    """Verify an inclusion or consistency proof as printed by ``vigil audit prove|consistency``.

    Returns a one-line statement of what was proven; raises ``ProofError`` otherwise.
    """
    if not isinstance(doc, dict):
        raise ProofError("a proof is a JSON object")
    kind = doc.get("type")
    if kind == "inclusion":
        head = _head(doc, "head")
        verify_head(head, public_key)
        entry = unb64(str(doc.get("entry_bytes", "")), what="entry_bytes")
        index = doc.get("index")
        if not isinstance(index, int):
            raise ProofError("proof has no integer 'index'")
        verify_inclusion(index, head.size, leaf_hash(entry), _paths(doc), head.root)
        return f"entry {index} is in the signed log of size {head.size}"
    if kind == "consistency":
        old, new = _head(doc, "old"), _head(doc, "new")
        verify_head(old, public_key)
        verify_head(new, public_key)
        verify_consistency(old.size, new.size, old.root, new.root, _paths(doc))
        return f"the signed log of size {new.size} extends the one of size {old.size}"
    raise ProofError(f"unknown proof type {kind!r}")
