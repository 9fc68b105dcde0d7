"""Identity on real footage: does a sighting ever hold two people, and does search find
each person (and nobody else)?

    .venv/bin/python benchmarks/identity_bench.py [--orders 3] [--datasets ../shared/datasets]
        [--detector yunet|hog] [--embedder dlib|reid|fused ...]

The 20 American Sign Language clips show five people (A-E, grouped in the datasets
README), each standing at the same spot of one office. For each seeded order one clip of
every person is held out, and the other 15 are joined in a shuffled order into one video:
people replace each other where the last one stood, as at a counter or a door. The video
is imported through the normal path (``AnalyticsService.analyse_as_camera``) into a fresh data
directory; the clip boundaries are the truth of who was there when. Then, inside an
approved case, each person is searched for with a photo: a frame of their held-out clip,
which the sequence does not contain.

Printed: sightings that span two people; per person, the appearances (clips) found by a
result flagged ``match`` and the ``match`` results that are someone else. Last, the
Hamilton clip: Lin-Manuel Miranda's photo on an approved watchlist, when the alert came
(he is in view from about 3.0 to 7.0 s), and a case search with that photo.

Each embedder named (default: all three) is measured on its own data directory, the whole
way (its tracks, its sightings, its searches), and a last table sets them side by side.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
from PIL import Image
from sqlalchemy import select

from alert_latency_bench import PASSWORD, as_user
from vigil.app import Services, open_services
from vigil.auth.roles import LOCAL, RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.config import load_config, save_config
from vigil.datadir import initialise
from vigil.errors import InvalidInput
from vigil.faces.descriptors import EMBEDDERS
from vigil.faces.model import DlibFaceModel
from vigil.faces.quality import measure
from vigil.investigations.cases import CaseSpec
from vigil.sim.footage import Span, join_clips
from vigil.store.models import AlertRow, SightingRow

ASL = "video/intel-sample-videos/asl_gestures"
PEOPLE = {
    "A": ["again", "brother", "help", "no", "student", "yes"],
    "B": ["bird", "milk", "please", "sorry", "thanks"],
    "C": ["book", "learn", "school", "walk"],
    "D": ["eat", "night", "sister"],
    "E": ["hungry", "want"],
}
WHO = {clip: person for person, clips in PEOPLE.items() for clip in clips}
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Tally:
    appearances: int = 0
    found: int = 0
    matches: int = 0
    wrong: int = 0
    weak_probes: int = 0
    distances: list[float] = field(default_factory=list)


def probe_photo(clip: Path) -> bytes:
    """The clip's frame with the best face (size x frontalness x sharpness), as a JPEG."""
    model = DlibFaceModel(detector="hog")  # the same probes whichever engine is measured
    best: tuple[float, Image.Image] | None = None
    with av.open(str(clip)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n % 3:
                continue
            image = frame.to_image()
            rgb = frame.to_ndarray(format="rgb24").copy()
            faces = model.detect(rgb, 1)
            if not faces:
                continue
            score = measure(faces[0], model.chips(rgb, faces[:1])[0].face).rank
            if best is None or score > best[0]:
                best = (score, image)
    if best is None:
        raise SystemExit(f"no face in {clip}")
    out = io.BytesIO()
    best[1].save(out, format="JPEG", quality=92)
    return out.getvalue()


def relative(services: Services, ids: list[int], began: datetime) -> dict[int, tuple[float, float]]:
    with services.db.read() as session:
        rows = session.execute(
            select(SightingRow.id, SightingRow.start, SightingRow.end).where(
                SightingRow.id.in_(ids)
            )
        )
        return {i: ((s - began).total_seconds(), (e - began).total_seconds()) for i, s, e in rows}


def people_in(spans: list[Span], start: float, end: float) -> set[str]:
    return {WHO[s.clip.stem] for s in spans if start < s.end and end > s.start}


def open_case(services: Services, ivy: RequestContext, sue: RequestContext, camera: str) -> int:
    spec = CaseSpec(
        subject="person seen at the counter",
        legal_basis="benchmark",
        reference=f"BENCH-{camera}",
        purpose="measure search",
        start=T0 - timedelta(hours=1),
        end=T0 + timedelta(hours=12),
        expires=datetime.now(UTC) + timedelta(days=1),
        cameras=[camera],
    )
    case = services.cases.open(ivy, spec)
    services.cases.approve(sue, case.id)
    return case.id


def search(
    services: Services, ivy: RequestContext, case: int, name: str, photo: bytes, tally: Tally
) -> list[tuple[int, float]]:
    """(sighting, distance) of the results flagged match; a weak probe is used if need be."""
    try:
        result = services.search.search(ivy, case, [(name, photo)], limit=100)
    except InvalidInput as refused:
        print(f"  probe {name} refused ({refused.message}); searching with --low-quality")
        result = services.search.search(ivy, case, [(name, photo)], limit=100, low_quality=True)
        tally.weak_probes += 1
    return [(c.sighting_id, c.distance) for c in result.results if c.match]


def run_order(
    services: Services, users: tuple[RequestContext, RequestContext], datasets: Path, order: int
) -> tuple[int, int, dict[str, Tally]]:
    ivy, sue = users
    rng = random.Random(order)
    held = {person: clips[order % len(clips)] for person, clips in PEOPLE.items()}
    sequence = [c for person, clips in PEOPLE.items() for c in clips if c != held[person]]
    rng.shuffle(sequence)
    video = Path(tempfile.mkdtemp()) / f"order{order}.mp4"
    spans = join_clips([datasets / ASL / f"{c}.mkv" for c in sequence], video)
    camera = f"counter{order}"
    local = RequestContext(LOCAL, uuid.uuid4().hex)
    services.cameras.add(local, CameraSpec(camera, "rtsp://127.0.0.1:9/unused", group="city"))
    began = T0 + timedelta(hours=order)
    clock = time.perf_counter()
    imported = services.analytics.analyse_as_camera(ivy, video, camera, began)
    seconds = time.perf_counter() - clock
    sightings = relative(services, imported.sightings, began)
    mixed = sum(len(people_in(spans, s, e)) > 1 for s, e in sightings.values())
    print(
        f"order {order}: {len(sequence)} clips, {spans[-1].end:.1f} s of video analysed in "
        f"{seconds:.1f} s; {len(sightings)} sightings, {mixed} holding two people; "
        f"held out {sorted(held.values())}"
    )
    case = open_case(services, ivy, sue, camera)
    tallies: dict[str, Tally] = defaultdict(Tally)
    for person, clip in held.items():
        tally = tallies[person]
        photo = probe_photo(datasets / ASL / f"{clip}.mkv")
        matches = search(services, ivy, case, f"{clip}.jpg", photo, tally)
        own = [s for s in spans if WHO[s.clip.stem] == person]
        tally.appearances += len(own)
        where = [(sightings[i], d) for i, d in matches if i in sightings]
        tally.found += sum(any(a < s.end and b > s.start for (a, b), _ in where) for s in own)
        tally.matches += len(where)
        for (a, b), distance in where:
            if person not in people_in(spans, a, b):
                tally.wrong += 1
                others = ",".join(sorted(people_in(spans, a, b)))
                when = f"{a:.1f}-{b:.1f} s"
                print(f"  wrong: {person}'s probe matched {others} at {when}, {distance:.3f}")
        tally.distances += [d for _, d in where]
    return len(sightings), mixed, tallies


def hamilton(
    services: Services, users: tuple[RequestContext, RequestContext], datasets: Path
) -> str:
    """Runs the Hamilton check; answers when the alert came, as the summary shows it."""
    ivy, sue = users
    photo_path = datasets / "face_recognition_examples" / "lin-manuel-miranda.png"
    photo = photo_path.read_bytes()
    entry = services.watchlists.propose(
        ivy,
        "Lin-Manuel Miranda",
        [(photo_path.name, photo)],
        basis="benchmark",
        reference="BENCH-H",
        expires=datetime.now(UTC) + timedelta(days=1),
    )
    services.watchlists.approve(sue, entry.id)
    local = RequestContext(LOCAL, uuid.uuid4().hex)
    services.cameras.add(local, CameraSpec("stage", "rtsp://127.0.0.1:9/unused", group="city"))
    began = T0 + timedelta(hours=10)
    video = datasets / "video" / "face_recognition" / "short_hamilton_clip.mp4"
    imported = services.analytics.analyse_as_camera(ivy, video, "stage", began)
    with services.db.read() as session:
        alerts = session.execute(
            select(
                AlertRow.seen_at, AlertRow.last_seen_at, AlertRow.distance, AlertRow.estimated_fmr
            )
        ).all()
    for seen, last, distance, fmr in alerts:
        print(
            f"hamilton: alert for {(seen - began).total_seconds():.1f}-"
            f"{((last or seen) - began).total_seconds():.1f} s (truth about 3.0-7.0 s), "
            f"distance {distance:.3f}, estimated FMR {fmr:.1e}"
        )
    if not alerts:
        print("hamilton: NO alert")
    when = ", ".join(
        f"{(seen - began).total_seconds():.1f}-{((last or seen) - began).total_seconds():.1f} s"
        for seen, last, _, _ in alerts
    )
    print(f"hamilton: {len(imported.sightings)} sightings, {len(alerts)} alert(s)")
    case = open_case(services, ivy, sue, "stage")
    result = services.search.search(ivy, case, [(photo_path.name, photo)], limit=20)
    found = relative(services, [c.sighting_id for c in result.results if c.match], began)
    spans = ", ".join(f"{a:.1f}-{b:.1f} s" for a, b in sorted(found.values()))
    print(f"hamilton: case search with the photo: {len(found)} match(es) at {spans or 'none'}")
    return when or "no alert"


@dataclass
class Outcome:
    sightings: int
    mixed: int
    tallies: dict[str, Tally]
    hamilton: str

    def row(self, embedder: str) -> str:
        found = sum(t.found for t in self.tallies.values())
        appear = sum(t.appearances for t in self.tallies.values())
        matches = sum(t.matches for t in self.tallies.values())
        wrong = sum(t.wrong for t in self.tallies.values())
        return (
            f"{embedder} | {self.sightings} | {self.mixed} | {found}/{appear} "
            f"({found / max(appear, 1):.1%}) | {wrong}/{matches} ({wrong / max(matches, 1):.1%}) "
            f"| {self.hamilton}"
        )


def measure_embedder(args: argparse.Namespace, embedder: str) -> Outcome:
    """The whole benchmark with one embedder, in a data directory of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        initialise(data, admin_password=PASSWORD, request_id="bench")
        config = load_config(data)
        faces = config.faces.model_copy(update={"detector": args.detector, "embedder": embedder})
        save_config(data, config.model_copy(update={"faces": faces}))
        print(f"\n== engine: detector {args.detector}, embedder {embedder}")
        services = open_services(data)
        try:
            users = (
                as_user(services, "ivy", Role.INVESTIGATOR),
                as_user(services, "sue", Role.SUPERVISOR),
            )
            services.groups.grant(RequestContext(LOCAL, uuid.uuid4().hex), "city", "ivy")
            total, mixed = 0, 0
            tallies: dict[str, Tally] = defaultdict(Tally)
            for order in range(args.orders):
                n, m, found = run_order(services, users, args.datasets, order)
                total, mixed = total + n, mixed + m
                for person, t in found.items():
                    sum_into(tallies[person], t)
            report(total, mixed, tallies, services.search.point.threshold)
            return Outcome(total, mixed, tallies, hamilton(services, users, args.datasets))
        finally:
            services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=3)
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--detector", choices=["yunet", "hog"], default="yunet")
    parser.add_argument("--embedder", choices=list(EMBEDDERS), nargs="+", default=list(EMBEDDERS))
    args = parser.parse_args()
    outcomes = {embedder: measure_embedder(args, embedder) for embedder in args.embedder}
    print("\nembedder | sightings | holding two people | appearances found | "
          "match results another person | Hamilton alert (truth 3.0-7.0 s)")  # fmt: skip
    print("---|---|---|---|---|---")
    for embedder, outcome in outcomes.items():
        print(outcome.row(embedder))


def sum_into(total: Tally, part: Tally) -> None:
    total.appearances += part.appearances
    total.found += part.found
    total.matches += part.matches
    total.wrong += part.wrong
    total.weak_probes += part.weak_probes
    total.distances += part.distances


def report(total: int, mixed: int, tallies: dict[str, Tally], threshold: float) -> None:
    print(f"\nsightings: {total}, holding two people: {mixed}; match threshold {threshold:.4f}")
    print("person | appearances | found | recall | match results | other person | weak probes")
    print("---|---|---|---|---|---|---")
    all_found = all_appear = all_matches = all_wrong = 0
    for person in sorted(tallies):
        t = tallies[person]
        print(
            f"{person} | {t.appearances} | {t.found} | {t.found / max(t.appearances, 1):.1%} | "
            f"{t.matches} | {t.wrong} | {t.weak_probes}"
        )
        all_found, all_appear = all_found + t.found, all_appear + t.appearances
        all_matches, all_wrong = all_matches + t.matches, all_wrong + t.wrong
    print(
        f"all | {all_appear} | {all_found} | {all_found / max(all_appear, 1):.1%} | "
        f"{all_matches} | {all_wrong} ({all_wrong / max(all_matches, 1):.1%}) |"
    )


if __name__ == "__main__":
    main()
