"""RFC 9162 hashing and proofs against an independent, literal reading of the RFC."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_path,
    inclusion_path,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from vigil.errors import ProofError


# --- the RFC's recursive definitions, written out as literally as possible -------------
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + d[0])
    k = _k(n)
    return _h(b"\x01" + rfc_mth(d[:k]) + rfc_mth(d[k:]))


def rfc_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*rfc_path(m, d[:k]), rfc_mth(d[k:])]
    return [*rfc_path(m - k, d[k:]), rfc_mth(d[:k])]


def rfc_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [rfc_mth(d)]
    k = _k(n)
    if m <= k:
        return [*rfc_subproof(m, d[:k], b), rfc_mth(d[k:])]
    return [*rfc_subproof(m - k, d[k:], False), rfc_mth(d[:k])]


def rfc_proof(m: int, d: list[bytes]) -> list[bytes]:
    return [] if m in (0, len(d)) else rfc_subproof(m, d, True)


# --- known answers: the 8-leaf tree of the Certificate Transparency test vectors ------
CT_LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize(("size", "expected"), list(enumerate(CT_ROOTS, start=1)))
def test_roots_match_published_vectors(size: int, expected: str) -> None:
    leaves = [leaf_hash(d) for d in CT_LEAVES[:size]]
    assert root_of(leaves).hex() == expected


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


leaves_strategy = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@settings(max_examples=200, deadline=None)
@given(data=leaves_strategy, pick=st.data())
def test_inclusion_proofs_match_rfc_and_verify(data: list[bytes], pick: st.DataObject) -> None:
    leaves = [leaf_hash(d) for d in data]
    index = pick.draw(st.integers(0, len(data) - 1))
    root = rfc_mth(data)
    assert root_of(leaves) == root
    path = inclusion_path(index, leaves)
    assert path == rfc_path(index, data)
    verify_inclusion(index, len(data), leaves[index], path, root)


@settings(max_examples=200, deadline=None)
@given(data=leaves_strategy, pick=st.data())
def test_consistency_proofs_match_rfc_and_verify(data: list[bytes], pick: st.DataObject) -> None:
    leaves = [leaf_hash(d) for d in data]
    old = pick.draw(st.integers(0, len(data)))
    path = consistency_path(old, leaves)
    assert path == rfc_proof(old, data)
    verify_consistency(old, len(data), rfc_mth(data[:old]), rfc_mth(data), path)


@settings(max_examples=100, deadline=None)
@given(data=st.lists(st.binary(max_size=8), min_size=2, max_size=40, unique=True), pick=st.data())
def test_tampered_inclusion_proofs_fail(data: list[bytes], pick: st.DataObject) -> None:
    leaves = [leaf_hash(d) for d in data]
    index = pick.draw(st.integers(0, len(data) - 1))
    path = inclusion_path(index, leaves)
    root = root_of(leaves)
    other = pick.draw(st.integers(0, len(data) - 1).filter(lambda i: data[i] != data[index]))
    with pytest.raises(ProofError):
        verify_inclusion(index, len(data), leaves[other], path, root)
    node = pick.draw(st.integers(0, len(path) - 1))
    broken = [*path[:node], bytes(32), *path[node + 1 :]]
    with pytest.raises(ProofError):
        verify_inclusion(index, len(data), leaves[index], broken, root)
    with pytest.raises(ProofError):
        verify_inclusion(index, len(data), leaves[index], path[:-1], root)


@settings(max_examples=100, deadline=None)
@given(data=st.lists(st.binary(max_size=8), min_size=3, max_size=40, unique=True), pick=st.data())
def test_inconsistent_trees_fail(data: list[bytes], pick: st.DataObject) -> None:
    leaves = [leaf_hash(d) for d in data]
    old = pick.draw(st.integers(1, len(data) - 1))
    path = consistency_path(old, leaves)
    rewritten = [leaf_hash(b"forged"), *leaves[1:old]]
    with pytest.raises(ProofError):
        verify_consistency(old, len(data), root_of(rewritten), root_of(leaves), path)
    with pytest.raises(ProofError):
        verify_consistency(old, len(data), root_of(leaves[:old]), root_of(rewritten), path)


@settings(max_examples=100, deadline=None)
@given(data=st.lists(st.binary(max_size=8), max_size=100))
def test_frontier_roundtrip_gives_same_root(data: list[bytes]) -> None:
    frontier = Frontier()
    for i, d in enumerate(data):
        frontier.append(leaf_hash(d))
        restored = Frontier.from_bytes(frontier.size, frontier.to_bytes())
        assert restored.root() == rfc_mth(data[: i + 1])
        frontier = restored


@pytest.mark.parametrize(
    ("index", "size"), [(-1, 4), (4, 4), (0, 0)], ids=["negative", "past-end", "empty"]
)
def test_inclusion_rejects_indices_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(index, size, bytes(32), [], EMPTY_ROOT)
