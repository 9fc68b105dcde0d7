"""Ed25519 signing key of the audit log and signed tree heads."""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vigil.audit.entry import time_us_to_iso
from vigil.errors import ConfigError, ProofError

PRIVATE_KEY_FILE = "audit-signing-key.pem"
PUBLIC_KEY_FILE = "audit-signing-key.pub.pem"
HEAD_CONTEXT = b"vigil-audit-tree-head-v1\x00"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise ProofError(f"{what} is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed statement: the log had ``size`` entries with this ``root`` at ``time_us``."""

    size: int
    root: bytes
    time_us: int
    signature: bytes

    def signed_bytes(self) -> bytes:
        return head_bytes(self.size, self.root, self.time_us)

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": b64(self.root),
            "timestamp_us": self.time_us,
            "time": time_us_to_iso(self.time_us),
            "signature": b64(self.signature),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeHead:
        try:
            return cls(
                size=int(data["size"]),
                root=unb64(data["root"], what="root"),
                time_us=int(data["timestamp_us"]),
                signature=unb64(data["signature"], what="signature"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProofError(f"malformed tree head: {exc}") from exc


def sign_statement(key: SigningKey, context: bytes, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields and an Ed25519 signature of their canonical JSON behind ``context`` (a
    statement of one kind never passes for another): signed exports, transparency reports."""
    return {**fields, "signature": b64(key.signature(_statement_bytes(context, fields)))}


def verify_statement(
    public_key: Ed25519PublicKey, context: bytes, signed: Mapping[str, Any], *, what: str
) -> dict[str, Any]:
    """The fields of a statement made by ``sign_statement``; ProofError naming ``what``
    unless it is exactly as signed."""
    fields = {k: v for k, v in signed.items() if k != "signature"}
    signature = signed.get("signature")
    if not isinstance(signature, str):
        raise ProofError(f"{what} has no signature")
    try:
        public_key.verify(unb64(signature, what="the signature"), _statement_bytes(context, fields))
    except InvalidSignature:
        raise ProofError(f"{what}'s signature does not verify: it was changed") from None
    return fields


def _statement_bytes(context: bytes, fields: Mapping[str, Any]) -> bytes:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return context + canonical.encode("ascii")


def head_bytes(size: int, root: bytes, time_us: int) -> bytes:
    return HEAD_CONTEXT + struct.pack(">QQ", size, time_us) + root


def verify_head(head: TreeHead, public_key: Ed25519PublicKey) -> None:
    try:
        public_key.verify(head.signature, head.signed_bytes())
    except InvalidSignature as exc:
        raise ProofError(f"signature of the tree head of size {head.size} is not valid") from exc


class SigningKey:
    """The private key lives in the data directory, readable by its owner only."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()

    def sign(self, size: int, root: bytes, time_us: int) -> TreeHead:
        signature = self._key.sign(head_bytes(size, root, time_us))
        return TreeHead(size=size, root=root, time_us=time_us, signature=signature)

    def public_pem(self) -> str:
        return public_key_pem(self.public_key)

    def signature(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``; callers prefix a context of their own, so
        that a signature made for one kind of statement never passes for another."""
        return self._key.sign(message)

    @classmethod
    def create(cls, data_dir: Path) -> SigningKey:
        """Generate the key pair unless one exists; never overwrites."""
        path = data_dir / PRIVATE_KEY_FILE
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        signing = cls(key)
        (data_dir / PUBLIC_KEY_FILE).write_text(signing.public_pem(), encoding="ascii")
        return signing

    @classmethod
    def load(cls, data_dir: Path) -> SigningKey:
        path = data_dir / PRIVATE_KEY_FILE
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise ConfigError(f"audit signing key {path} is missing") from exc
        except ValueError as exc:
            raise ConfigError(f"audit signing key {path} is unreadable: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"audit signing key {path} is not an Ed25519 key")
        return cls(key)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise ProofError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ProofError("the public key is not an Ed25519 key")
    return key
