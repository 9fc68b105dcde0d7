"""Case-scoped vector search at archive scale: latency, recall@10 and memory.

    .venv/bin/python benchmarks/vector_bench.py [--sizes 1000000 10000000] [--queries 300]

Synthetic sightings stand in for a city's archive: people (one per 20 sightings) with a
128-d centre each, sightings = centre + noise (same-person distances about 0.4, different
people about 0.95, as dlib's descriptors give), spread over CAMERAS cameras and DAYS days.
They go into the index Vigil searches (``vigil.search.vectors.Partitions``: half-precision
FAISS partitions by day and camera). Each query is a new photo of a random person, within
a case scope of SCOPE_CAMERAS cameras over SCOPE_DAYS consecutive days; recall@10 is
against exact float32 search over the same scope. Reading the store (new rows, the hits'
rows) is not timed here: it is a handful of indexed SQL reads per search.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from vigil.search.vectors import Key, Partitions

DIM = 128
CENTRE_SD = 0.95 / np.sqrt(2 * DIM)  # different people: distance about 0.95
NOISE_SD = 0.4 / np.sqrt(2 * DIM)  # the same person: about 0.4
PER_PERSON = 20
FIRST_DAY = date(2026, 10, 1)
EMBEDDER = "dlib"  # the partitions' embedder: dlib-like 128-d descriptors


@dataclass(frozen=True)
class Scope:
    cameras: list[int]
    days: list[date]

    def parts(self) -> list[Key]:
        return [(EMBEDDER, day, camera) for day in self.days for camera in self.cameras]


def scopes(rng: np.random.Generator, args: argparse.Namespace) -> list[Scope]:
    found = []
    for _ in range(args.scopes):
        cameras = sorted(rng.choice(args.cameras, args.scope_cameras, replace=False).tolist())
        first = int(rng.integers(0, args.days - args.scope_days + 1))
        days = [FIRST_DAY + timedelta(days=first + n) for n in range(args.scope_days)]
        found.append(Scope(cameras, days))
    return found


def build(
    n: int, rng: np.random.Generator, args: argparse.Namespace, wanted: set[Key]
) -> tuple[
    Partitions, NDArray[np.float32], dict[Key, tuple[NDArray[np.int64], NDArray[np.float32]]]
]:
    """The index of n sightings, the people's centres, and the scopes' exact vectors."""
    centres = rng.normal(0.0, CENTRE_SD, size=(max(1, n // PER_PERSON), DIM)).astype(np.float32)
    partitions = Partitions()
    exact: dict[Key, tuple[NDArray[np.int64], NDArray[np.float32]]] = {}
    per_day = n // args.days
    next_id = 1
    for d in range(args.days):
        day = FIRST_DAY + timedelta(days=d)
        people = rng.integers(0, len(centres), per_day)
        cameras = rng.integers(0, args.cameras, per_day)
        vectors = centres[people] + rng.normal(0.0, NOISE_SD, size=(per_day, DIM)).astype(
            np.float32
        )
        ids = np.arange(next_id, next_id + per_day, dtype=np.int64)
        next_id += per_day
        order = np.argsort(cameras, kind="stable")
        bounds = np.searchsorted(cameras[order], np.arange(args.cameras + 1))
        for camera in range(args.cameras):
            rows = order[bounds[camera] : bounds[camera + 1]]
            key = (EMBEDDER, day, camera)
            partitions.add(key, ids[rows], vectors[rows])
            if key in wanted:
                exact[key] = (ids[rows], vectors[rows].copy())
        del vectors
    return partitions, centres, exact


def exact_top(
    probe: NDArray[np.float32],
    scope: Scope,
    exact: dict[Key, tuple[NDArray[np.int64], NDArray[np.float32]]],
    k: int,
) -> set[int]:
    ids = np.concatenate([exact[key][0] for key in scope.parts() if key in exact])
    vectors = np.concatenate([exact[key][1] for key in scope.parts() if key in exact])
    distances = np.linalg.norm(vectors - probe, axis=1)
    return {int(i) for i in ids[np.argsort(distances)[:k]]}


def run(n: int, args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    chosen = scopes(rng, args)
    wanted = {key for scope in chosen for key in scope.parts()}
    began = time.perf_counter()
    partitions, centres, exact = build(n, rng, args, wanted)
    built_s = time.perf_counter() - began
    latencies, recalls, in_scope = [], [], []
    for q in range(args.queries):
        scope = chosen[q % len(chosen)]
        person = int(rng.integers(0, len(centres)))
        probe = centres[person] + rng.normal(0.0, NOISE_SD, DIM).astype(np.float32)
        start = time.perf_counter()
        hits = partitions.search(probe, scope.parts(), 10)
        latencies.append((time.perf_counter() - start) * 1000)
        truth = exact_top(probe, scope, exact, 10)
        recalls.append(len({h.sighting_id for h in hits} & truth) / len(truth))
        in_scope.append(sum(len(exact[key][0]) for key in scope.parts() if key in exact))
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    index_gb = len(partitions) * (DIM * 2 + 8) / 1024**3
    p50, p95 = np.percentile(latencies, [50, 95])
    print(
        f"{n:>11,} sightings | scope {args.scope_cameras} of {args.cameras} cameras x "
        f"{args.scope_days} of {args.days} days (~{int(np.mean(in_scope)):,} sightings) | "
        f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms | recall@10 {np.mean(recalls):.3f} | "
        f"index {index_gb:.2f} GB, process peak {rss_gb:.2f} GB | built in {built_s:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--cameras", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scope-cameras", type=int, default=10)
    parser.add_argument("--scope-days", type=int, default=7)
    parser.add_argument("--scopes", type=int, default=4)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("targets: 1M <= 20 ms p95, 10M <= 100 ms p95, recall@10 >= 0.95, <= 4 GB")
    for n in args.sizes:
        run(n, args)


if __name__ == "__main__":
    main()
