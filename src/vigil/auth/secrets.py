"""Bearer secrets (API tokens, session cookies, CSRF tokens): random, stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def secret_hash(secret: str) -> bytes:
    """SHA-256 is enough here: the secrets carry 256 random bits, unlike passwords."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def same_hash(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
