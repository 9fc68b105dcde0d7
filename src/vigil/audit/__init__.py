"""Append-only, tamper-evident audit log (RFC 9162 Merkle tree, signed heads)."""
