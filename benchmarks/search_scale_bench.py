"""Case search end to end over a city's archive of sightings, on PostgreSQL.

    .venv/bin/python benchmarks/search_scale_bench.py [--sightings 10000000] [--cameras 1000]
        [--days 30] [--people 200] [--strangers 1000] [--scope-cameras 100] [--scope-days 7]
        [--cases 10] [--requests 2] [--regions 1] [--search-memory-mib 2048]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--datasets ../shared/datasets]

A fresh schema holds SIGHTINGS sightings over CAMERAS cameras and DAYS days, loaded with
COPY. Their descriptors are those of the default embedder, in its stored form:
- PEOPLE known people from lfw-dev with three or more photos: one photo is the probe of
  the searches (never stored); each other photo's descriptor (plus a little noise) is one
  of their appearances, 20 each, at random cameras and times;
- everybody else: STRANGERS other lfw-dev people (one photo each, described for real),
  each sighting one of them plus a little noise, so a stranger is as far from a known
  person as a real different face is (and an unlucky lookalike is a real false match).

Then CASES cases (opened by an investigator, approved by a supervisor), each over
SCOPE_CAMERAS cameras (a camera group) and SCOPE_DAYS days, are searched with known
people's probe photos through ``SearchService.search``, as the API runs it: photo checks and
descriptor, scope counts, the vector index, the candidates' rows, the stored search and its
audit record. As in the API's process, an approved case's camera-days are read into the
vector index at its approval (``serve_people``); the bench waits for that before the
case's first search. Printed: the load time; the read-ahead time from approval;
per search, end to end, and the probe and index stages alone (the rest is the store and
the audit), p50/p95/p99, the first search of each case apart from the rest; recall of the
results against exact search over the same scope (the 200 nearest within the engine's
threshold, brute force in numpy on the scope's rows, read by the bench's own query); the
share of the person's appearances in scope flagged as matches, and flagged matches of
anyone else; the store's size on disk; the index's memory (its budget: SEARCH_MEMORY_MIB)
and the process's peak while approving and searching. Then REQUESTS subject requests of
known people (their probe photos), each approval comparing every stored sighting with
them (in the background, as in the API's process): the time from the approval to the
answer, and the share of the person's appearances put before the DPO (within the match
point, or beyond it as possible; and anyone else's sightings among them).

``--regions N`` checks the regional design of ``docs/scaling.md`` by simulation: the
cameras are shared among N stores (a schema each on the one PostgreSQL server, in place of
a region's own server), each with its own Vigil services and vector index, a block of
cameras each, so every case's scope (every tenth camera) lies in all of them. A case is
opened and approved in each (cases are central in the design, copied here), and each
search asks every region at once, as a central API node would, and merges their
candidates by distance, the nearest LIMIT kept. Its time is end to end, the merge
included; a stage's time is the slowest region's. Each region describes the probe photo
itself (the central node would describe it once and send the descriptor), and the regions
share this machine's two cores and one PostgreSQL, so the figure is an upper bound for
regions on servers of their own. Subject requests are not run across regions.
"""

from __future__ import annotations

import argparse
import gc
import io
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.schemas import fresh_schema

from alert_latency_bench import PASSWORD, as_user
from vigil.app import Services, open_services
from vigil.auth.roles import LOCAL, RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.config import CasesConfig, parse_config, render_config
from vigil.datadir import initialise
from vigil.faces.descriptors import models_of, tag_of
from vigil.faces.reference import reference_face
from vigil.investigations import search as search_module
from vigil.investigations.cases import CaseSpec
from vigil.investigations.results import Candidate

APPEARANCES = 20  # of each known person
NOISE_SD = 0.01  # added to a known person's photo descriptor for each appearance
CHUNK = 50_000  # rows a COPY
SEARCHES_PER_CASE = 3
LIMIT = 200  # results a search returns


@dataclass(frozen=True)
class Known:
    name: str
    probe: bytes  # a photo never stored
    vectors: NDArray[np.float32]  # the stored photos' descriptors


def known_people(services: Services, lfw: Path, wanted: int) -> list[Known]:
    """LFW people with 3+ photos whose photos pass the reference bar."""
    engine, limits = services.search.engine, services.search.photos.limits
    people: list[Known] = []
    for folder in sorted(p for p in lfw.iterdir() if p.is_dir()):
        photos = sorted(folder.glob("*.jpg"))
        if len(photos) < 3:
            continue
        try:
            vectors = [
                reference_face(engine, limits, p.name, p.read_bytes()).descriptor
                for p in photos[1:4]
            ]
            reference_face(engine, limits, photos[0].name, photos[0].read_bytes())
        except Exception:  # noqa: BLE001, S112 - a photo below the bar: take another person
            continue
        people.append(Known(folder.name, photos[0].read_bytes(), np.stack(vectors)))
        if len(people) == wanted:
            break
    return people


def stranger_pool(services: Services, lfw: Path, known: list[Known], wanted: int) -> NDArray:
    """Real descriptors of other LFW people (one photo each)."""
    engine, limits = services.search.engine, services.search.photos.limits
    names = {k.name for k in known}
    pool = []
    for folder in sorted(p for p in lfw.iterdir() if p.is_dir() and p.name not in names):
        photo = sorted(folder.glob("*.jpg"))[0]
        try:
            pool.append(reference_face(engine, limits, photo.name, photo.read_bytes()).descriptor)
        except Exception:  # noqa: BLE001, S112 - below the bar: the next person
            continue
        if len(pool) == wanted:
            break
    return np.stack(pool)


def strangers(rng: np.random.Generator, pool: NDArray[np.float32], n: int) -> NDArray[np.float32]:
    """Sightings of the pool's people: a real descriptor each, plus a little noise."""
    picked = pool[rng.integers(0, len(pool), n)]
    return (picked + rng.normal(0, NOISE_SD, picked.shape)).astype(np.float32)


def copy_rows(
    url: str,
    cameras: NDArray[np.int64],
    starts: NDArray[np.float64],
    vectors: NDArray[np.float32],
    tag: str,
) -> None:
    """One COPY of these sightings (their descriptor as little-endian float32 bytes)."""
    out = io.StringIO()
    now = datetime.now(UTC).replace(tzinfo=None).isoformat()
    box = '{"left": 10, "top": 10, "right": 90, "bottom": 90}'
    for camera, start, vector in zip(cameras, starts, vectors, strict=True):
        at = datetime.fromtimestamp(start, UTC).replace(tzinfo=None).isoformat()
        until = datetime.fromtimestamp(start + 3.0, UTC).replace(tzinfo=None).isoformat()
        blob = "\\\\x" + vector.astype("<f4").tobytes().hex()
        out.write(
            f"{camera}\tsegment\t{at}\t{until}\t{box}\t80\t10.0\t0.8\t5\t1\t{blob}\t{tag}\t{now}\n"
        )
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(  # type: ignore[attr-defined]
                'COPY sightings (camera_id, source, start, "end", box, face_px, sharpness, '
                "frontalness, faces, descriptors, embedding, embedding_models, created_at) "
                "FROM STDIN"
            ) as copy,
        ):
            copy.write(out.getvalue())
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def percentiles(values: list[float], what: str = "searches") -> str:
    if not values:
        return "none"
    p50, p95, p99 = np.percentile(np.array(values) * 1000, [50, 95, 99])
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms ({len(values)} {what})"


def timing(owner: object, name: str, stage: str, into: Callable[[], dict[str, float]]) -> None:
    """Add the time each call of ``owner.name`` takes to ``into()[stage]``."""
    original = getattr(owner, name)

    def timed(*args: object, **kwargs: object) -> object:
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent = into()
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - began

    setattr(owner, name, timed)


def stages_report(
    opening: list[float], later: list[float], stages: dict[tuple[bool, str], list[float]]
) -> None:
    for first, what, times in ((True, "first of each case", opening), (False, "the others", later)):
        print(f"search, {what}: {percentiles(times)}")
        for (was_first, stage), seconds in stages.items():
            if was_first == first:
                print(f"  {stage}: {percentiles(seconds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sightings", type=int, default=10_000_000)
    parser.add_argument("--cameras", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--strangers", type=int, default=1000, help="LFW people as the others")
    parser.add_argument("--scope-cameras", type=int, default=100)
    parser.add_argument("--scope-days", type=int, default=7)
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2, help="subject requests")
    parser.add_argument(
        "--regions", type=int, default=1,
        help="stores the cameras are shared among (a schema each); searches fan out to all",
    )  # fmt: skip
    parser.add_argument(
        "--search-memory-mib", type=int, default=CasesConfig().search_memory_mib,
        help="the vector index's budget",
    )  # fmt: skip
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--keep", action="store_true", help="leave the schema behind")
    args = parser.parse_args()
    if args.regions < 1 or args.cameras % args.regions:
        parser.error("--regions must be 1 or more and divide --cameras")
    if args.regions > 1 and args.requests:
        print("subject requests are not run across regions (--requests ignored)")
        args.requests = 0
    rng = np.random.default_rng(30)
    prefix = "vigil_scale" if args.regions == 1 else "vigil_scale_region"
    with ExitStack() as stack:
        urls = [
            stack.enter_context(fresh_schema(args.database_url, prefix, keep=args.keep))
            for _ in range(args.regions)
        ]
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        run(args, urls, root, rng)


@dataclass
class Region:
    """One region's store (a schema in place of its own PostgreSQL server), its Vigil
    services and users; the whole city's cameras are registered in each (cameras and cases
    are central in the design), its own cameras' sightings stored in it alone."""

    url: str
    services: Services
    ivy: RequestContext
    sue: RequestContext
    camera_ids: list[int]
    owners: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lowest_id: int = 0  # ids follow the load order in each store
    stage_s: dict[str, float] = field(default_factory=dict)  # the search under way's stages

    def owner(self, sighting_id: int) -> int:
        """The known person a stored sighting shows (-1: somebody else)."""
        return int(self.owners[sighting_id - self.lowest_id])


def open_region(args: argparse.Namespace, url: str, data: Path) -> Region:
    data.mkdir()
    (data / "vigil.toml").write_text(
        render_config(
            parse_config(
                {
                    "database": {"url": url},
                    # one investigator makes every search, faster than a person would
                    "cases": {
                        "daily_search_quota": max(50, args.cases * SEARCHES_PER_CASE),
                        "search_memory_mib": args.search_memory_mib,
                    },
                    "faces": {"photos_per_minute": 10_000},
                }
            )
        )
    )
    initialise(data, admin_password=PASSWORD, request_id="bench")
    services = open_services(data)
    local = RequestContext(LOCAL, uuid.uuid4().hex)
    ivy = as_user(services, "ivy", Role.INVESTIGATOR)
    sue = as_user(services, "sue", Role.SUPERVISOR)
    groups = args.cameras // args.scope_cameras
    camera_ids = []
    for n in range(args.cameras):
        spec = CameraSpec(f"cam{n}", f"rtsp://10.0.0.1/{n}", group=f"g{n % groups}")
        camera_ids.append(services.cameras.add(local, spec).id)
    for group in range(groups):
        for name in ("ivy", "sue"):
            services.groups.grant(local, f"g{group}", name)
    return Region(url, services, ivy, sue, camera_ids)


def load(
    args: argparse.Namespace,
    regions: list[Region],
    people: list[Known],
    pool: NDArray[np.float32],
    first: datetime,
    rng: np.random.Generator,
) -> None:
    """Store the sightings by COPY, each in its camera's region, then VACUUM ANALYZE."""
    tag = tag_of(models_of(regions[0].services.search.embedder))
    span = args.days * 86_400.0
    began = time.perf_counter()
    # Sightings are stored as they happen: in time order, every camera's interleaved. The
    # known people's appearances are at random places among the strangers'. A region holds
    # a block of cameras; a case's group (every tenth camera) lies in every region.
    every_start = np.sort(first.timestamp() + rng.uniform(0, span, args.sightings))
    every_camera = rng.integers(0, args.cameras, args.sightings)
    owners = np.full(args.sightings, -1)  # by load position: the known person (-1: none)
    appearing = rng.choice(args.sightings, len(people) * APPEARANCES, replace=False)
    owners[appearing] = np.repeat(np.arange(len(people)), APPEARANCES)
    region_of = every_camera * len(regions) // args.cameras
    cameras = [np.array(region.camera_ids) for region in regions]
    for number, region in enumerate(regions):
        region.owners = owners[region_of == number]
    # The same sightings whatever the number of regions: drawn in load order, each stored
    # in its camera's region.
    for row in range(0, args.sightings, CHUNK):
        at = np.arange(row, min(row + CHUNK, args.sightings))
        vectors = strangers(rng, pool, len(at))
        for k in np.flatnonzero(owners[at] >= 0):
            photos = people[owners[at[k]]].vectors
            vectors[k] = photos[rng.integers(0, len(photos))] + rng.normal(
                0, NOISE_SD, photos.shape[1]
            )
        for number, region in enumerate(regions):
            mine = region_of[at] == number
            ids = cameras[number][every_camera[at][mine]]
            copy_rows(region.url, ids, every_start[at][mine], vectors[mine], tag)
    loaded = time.perf_counter() - began
    print(f"{args.sightings:,} sightings loaded by COPY into {len(regions)} store(s) in "
          f"{loaded:.0f} s ({args.sightings / loaded:,.0f} a second)")  # fmt: skip
    del every_start, every_camera, owners
    began = time.perf_counter()
    size = 0
    for region in regions:
        with region.services.db.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as conn:
            # What autovacuum does after a bulk insert, at once: statistics, and the
            # visibility map that lets a count read the index alone.
            conn.execute(text("VACUUM ANALYZE sightings"))
            size += conn.execute(text("SELECT pg_total_relation_size('sightings')")).scalar_one()
            buffers = conn.execute(text("SHOW shared_buffers")).scalar_one()
        region.lowest_id = row_base(region.services)
    print(f"VACUUM ANALYZE in {time.perf_counter() - began:.0f} s")
    print(f"store: sightings tables with their indexes {size / 2**30:.2f} GiB on disk "
          f"(PostgreSQL's shared_buffers: {buffers})")  # fmt: skip


def run(args: argparse.Namespace, urls: list[str], root: Path, rng: np.random.Generator) -> None:  # noqa: PLR0915
    regions = [open_region(args, url, root / f"data{n}") for n, url in enumerate(urls)]
    services = regions[0].services  # describes the people (the same engine in every region)
    groups = args.cameras // args.scope_cameras
    began = time.perf_counter()
    people = known_people(services, args.datasets / "lfw-dev" / "lfw-deepfunneled", args.people)
    print(f"{len(people)} known people described in {time.perf_counter() - began:.0f} s")
    lfw = args.datasets / "lfw-dev" / "lfw-deepfunneled"
    pool = stranger_pool(services, lfw, people, args.strangers)
    print(f"{len(pool)} other people described in {time.perf_counter() - began:.0f} s")
    first = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=args.days + 1
    )
    scopes = [
        (n % groups, first + timedelta(days=int(rng.integers(0, args.days - args.scope_days + 1))))
        for n in range(args.cases)
    ]
    load(args, regions, people, pool, first, rng)

    threshold = services.search.engine.threshold
    ahead: list[float] = []
    opening: list[float] = []  # each case's first search
    later: list[float] = []
    for region in regions:
        region.services.serve_people()  # as the API's process does
    gc.freeze()  # as `vigil up` does once it has started (``vigil.cli.setup.serve``)
    probe_s: list[float] = []
    recalls: list[float] = []
    found: list[float] = []
    others = 0
    copy_bytes = 0  # the largest scope's descriptors, as the bench holds them for exact search
    serving_peak = 0.0  # GiB, the process's most while approving and searching
    stages: dict[tuple[bool, str], list[float]] = {}  # (a first search?, stage): times
    searching = threading.local()  # the region whose search this thread runs
    timing(search_module, "reference_face", "describing the probe photo",
           lambda: regions[searching.region].stage_s)  # fmt: skip
    for region in regions:
        search, into = region.services.search, region.stage_s
        timing(search.vectors, "search", "vector index calls", lambda into=into: into)
        timing(search, "_count", "scope count (beside the photo and the index)",
               lambda into=into: into)  # fmt: skip
        timing(search, "_store", "storing the results and their audit", lambda into=into: into)

    def search_in(number: int, case_id: int, photo: bytes) -> list[Candidate]:
        searching.region = number
        region = regions[number]
        photos = [("probe.jpg", photo)]
        return region.services.search.search(region.ivy, case_id, photos, limit=LIMIT).results

    fan_out = ThreadPoolExecutor(len(regions), thread_name_prefix="bench-region")
    for case_number, (group, begins) in enumerate(scopes):
        ends = begins + timedelta(days=args.scope_days)
        spec = CaseSpec(
            subject=f"bench case {case_number}",
            legal_basis="StPO 163",
            reference=f"AZ {case_number}/26",
            purpose="measure search at city scale",
            start=begins,
            end=ends,
            expires=datetime.now(UTC) + timedelta(days=30),
            groups=[f"g{group}"],
        )
        cases = [r.services.cases.open(r.ivy, spec).id for r in regions]
        # The bench's exact answers first, from its own read of the scope, so that the
        # process's peak memory below is that of approving and searching alone.
        scope = scope_rows(regions, range(group, args.cameras, groups), begins, ends)
        copy_bytes = max(copy_bytes, scope.vectors.nbytes)
        present = sorted({o for o in scope.owners if o >= 0})
        chosen = random.Random(case_number).sample(present, min(SEARCHES_PER_CASE, len(present)))
        expected: list[tuple[int, set[tuple[int, int]], set[tuple[int, int]]]] = []
        for number in chosen:
            t = time.perf_counter()
            face = reference_face(
                services.search.engine, services.search.photos.limits, "p.jpg", people[number].probe
            )
            probe_s.append(time.perf_counter() - t)
            probe = services.search.engine.view(face.descriptor).reshape(-1)
            distances = np.linalg.norm(scope.vectors - probe, axis=1)
            order = np.argsort(distances)[:LIMIT]
            exact = {scope.keys[k] for k in order[distances[order] <= threshold]}
            theirs = {key for key, o in zip(scope.keys, scope.owners, strict=True) if o == number}
            expected.append((number, exact, theirs))
        del scope, distances
        gc.collect()
        reset_peak()
        began = time.perf_counter()
        for region, case_id in zip(regions, cases, strict=True):
            region.services.cases.approve(region.sue, case_id)
        for region, case_id in zip(regions, cases, strict=True):
            region.services.read_ahead.reading[case_id].join()
        ahead.append(time.perf_counter() - began)
        for turn, (number, exact, theirs) in enumerate(expected):
            for region in regions:
                region.stage_s.clear()
            began = time.perf_counter()
            answers = fan_out.map(search_in, range(len(regions)), cases,
                                  [people[number].probe] * len(regions))  # fmt: skip
            # The merge: every region's candidates by distance, the nearest LIMIT kept.
            merged = sorted(
                ((n, c) for n, results in enumerate(answers) for c in results),
                key=lambda pair: pair[1].distance,
            )[:LIMIT]
            elapsed = time.perf_counter() - began
            (later if turn else opening).append(elapsed)
            for stage in dict.fromkeys(s for r in regions for s in r.stage_s):  # the slowest's
                took = max(r.stage_s.get(stage, 0.0) for r in regions)
                stages.setdefault((turn == 0, stage), []).append(took)
            returned = {(n, c.sighting_id) for n, c in merged}
            flagged = {(n, c.sighting_id) for n, c in merged if c.match}
            recalls.append(len(returned & exact) / len(exact) if exact else 1.0)
            found.append(len(flagged & theirs) / len(theirs))
            others += sum(1 for n, s in flagged if regions[n].owner(s) != number)
        serving_peak = max(serving_peak, memory()[0])
    fan_out.shutdown()
    requests_report(services, regions[0].sue, people[: args.requests], regions[0])
    print(f"approval to the case's camera-days read ahead: {percentiles(ahead, 'cases')}")
    if len(regions) > 1:
        print(f"each search asked {len(regions)} regions at once and merged their candidates; "
              "a stage's time is the slowest region's")  # fmt: skip
    stages_report(opening, later, stages)
    print(f"probe photo to descriptor, before each search: {percentiles(probe_s)}")
    print(
        f"recall of the results against exact search in scope (the {LIMIT} nearest within "
        f"the threshold): mean {np.mean(recalls):.3f}, lowest {min(recalls):.3f}"
    )
    print(f"the person's appearances in scope flagged as matches: mean {np.mean(found):.3f}; "
          f"flagged matches of someone else: {others}")  # fmt: skip
    indexes = [r.services.search.vectors for r in regions]
    held = sum(len(index.partitions) for index in indexes)
    nbytes = sum(index.partitions.nbytes for index in indexes)
    budget = sum(index.budget or 0 for index in indexes)
    print(f"memory: the index(es) hold {held:,} descriptors, {nbytes / 2**30:.2f} GiB (half "
          f"precision and ids; budget {budget / 2**30:.2f} GiB); this process holds "
          f"{memory()[1]:.2f} GiB, and peaked at {serving_peak:.2f} GiB while approving and "
          f"searching (the bench's exact answers apart: a scope's descriptors, up to "
          f"{copy_bytes / 2**30:.2f} GiB)")  # fmt: skip
    for region in regions:
        region.services.close()


def requests_report(
    services: Services,
    sue: RequestContext,
    asking: list[Known],
    region: Region,
) -> None:
    """Subject requests of known people, with their probe photos: an approval compares
    every stored sighting with them (the whole archive, not a case's scope)."""
    if not asking:
        return
    dana = as_user(services, "dana", Role.DPO)
    took: list[float] = []
    found: list[float] = []
    others = possible = 0
    for number, person in enumerate(asking):
        taken = services.subjects.open(
            dana, [("probe.jpg", person.probe)], reference=f"bench {number}",
            identity_checked_by="bench",
        )  # fmt: skip
        began = time.perf_counter()
        state = services.subjects.approve(sue, taken.id).state
        while state == "comparing":  # as the API's process does it: in the background
            time.sleep(0.1)
            state = services.subjects.show(dana, taken.id).state
        took.append(time.perf_counter() - began)
        shown = services.subject_review.found(dana, taken.id)
        hits = [region.owner(f.sighting) for f in shown]
        found.append(sum(h == number for h in hits) / APPEARANCES)
        others += sum(h != number for h in hits)
        possible += sum(not f.match for f in shown)
    print(f"subject requests, approval (every sighting compared): {percentiles(took, 'requests')}")
    print(f"  the person's appearances put before the DPO: mean {np.mean(found):.3f}; "
          f"sightings of someone else among them: {others}; {possible} shown as possible "
          "(beyond the match point)")  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """A case's stored sightings, read by the bench for exact search: their (region, id),
    the known person each shows (-1: somebody else) and their descriptors in the
    comparison space."""

    keys: list[tuple[int, int]]
    owners: list[int]
    vectors: NDArray[np.float32]


def scope_rows(regions: list[Region], cameras: range, begins: datetime, ends: datetime) -> Scope:
    """The sightings of these cameras (by number) in [begins, ends), straight from each
    region's store (one descriptor each, as the bench stores them)."""
    keys: list[tuple[int, int]] = []
    blobs: list[bytes] = []
    for number, region in enumerate(regions):
        with region.services.db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, embedding FROM sightings WHERE camera_id = ANY(:cameras) "
                    "AND start >= :begins AND start < :ends"
                ),
                {"cameras": [region.camera_ids[n] for n in cameras], "begins": begins,
                 "ends": ends},
            ).all()  # fmt: skip
        keys += [(number, row.id) for row in rows]
        blobs += [row.embedding for row in rows]
    raw = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(keys), -1)
    vectors = regions[0].services.search.engine.view(raw).reshape(len(keys), -1)
    owners = [regions[n].owner(sighting) for n, sighting in keys]
    return Scope(keys, owners, np.ascontiguousarray(vectors, dtype=np.float32))


def memory() -> tuple[float, float]:
    """This process's peak memory since ``reset_peak`` and its memory now, GiB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    peak, now = (int(status[key].split()[0]) / 2**20 for key in ("VmHWM", "VmRSS"))
    return peak, now


def reset_peak() -> None:
    """The peak (VmHWM) counts from now on (Linux's clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def row_base(services: Services) -> int:
    """The first sighting's id: ids follow the load order."""
    with services.db.engine.connect() as conn:
        return int(conn.execute(text("SELECT min(id) FROM sightings")).scalar_one())


if __name__ == "__main__":
    main()
