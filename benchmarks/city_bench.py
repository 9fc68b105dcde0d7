"""Watchlist alerts and case search over simulated cameras full of LFW people.

    .venv/bin/python benchmarks/city_bench.py [--cameras 8] [--people 50] [--seconds 120]
        [--watched 5] [--searched 20] [--requests 20] [--workers 2]
        [--datasets ../shared/datasets] [--embedder dlib|reid|fused]

The simulator's scenes (people from lfw-dev, each shown by their first photo, walking
through CAMERAS cameras) are rendered to files, one per camera, and analysed as those
cameras' footage (``AnalyticsService.analyse_as_camera``, which no command reaches: a file
someone imports is a case's evidence), in WORKERS processes at a time. Only people with a second
photo in lfw-dev are used: that photo, never shown to any camera, is what the case
searches with (and what half of the watchlist holds).

Printed, against the simulator's ground truth (who was in full view of which camera when:
an appearance to find; a sighting or alert is someone else's when its person was not in
that camera's picture at all then, as a face cut by the frame's edge is still theirs):
- alerts: the watched people's appearances that an alert of theirs covers, and alerts
  that cover no appearance of their entry's person (false alerts); WATCHED people are on
  the watchlist with the photo the cameras show, WATCHED others with a second photo;
- search: for SEARCHED people, one search each in a case over every camera, the
  appearances found by a result flagged ``match``, and ``match`` results that are someone
  else;
- subject requests: REQUESTS people each ask what is held about them with their second
  photo (taken by a DPO, approved by a supervisor, ``vigil.subjects``), and a DPO who
  confirms everything put before them answers; the appearances their answer holds, its
  sightings that are someone else, and faces other than the subject's that YuNet (at 1x
  and 2x) still finds in the answer's pictures; then how many appearances were found
  within the match point and how many only among the sightings shown as possible beyond
  it (and of those, how many are someone else: what a DPO must reject).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
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
from vigil.investigations.cases import CaseSpec
from vigil.publishing.render import YuNetBoxes
from vigil.sim.footage import Frame, encode
from vigil.sim.scenario import Renderer, Scenario, load_people
from vigil.store.models import AlertRow, AlertSighting, Camera, SightingRow, WatchlistEntry
from vigil.subjects.report import others as not_the_subject

FPS = 10
STARTED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
Window = tuple[str, datetime, datetime]  # camera, start, end


def people_folder(lfw: Path, root: Path, count: int, rng: random.Random) -> Path:
    """An LFW-layout folder of ``count`` people who have a second photo."""
    names = sorted(p.name for p in lfw.iterdir() if len(list(p.glob("*.jpg"))) >= 2)
    folder = root / "people"
    for name in rng.sample(names, count):
        (folder / name).mkdir(parents=True)
        for photo in sorted((lfw / name).glob("*.jpg")):
            (folder / name / photo.name).symlink_to(photo.resolve())
    return folder


def second_photo(folder: Path, name: str) -> tuple[str, bytes]:
    photo = sorted((folder / name).glob("*.jpg"))[1]
    return photo.name, photo.read_bytes()


def frames(renderer: Renderer, seconds: float) -> Iterator[Frame]:
    for i in range(round(seconds * FPS)):
        yield renderer.frame(i / FPS)


def analyse(data: Path, video: Path, camera: str) -> float:
    """The file analysed as the camera's footage, in a process of its own; the seconds it
    took."""
    began = time.perf_counter()
    subprocess.run(  # noqa: S603 - this very script
        [sys.executable, __file__, "--analyse", str(data), str(video), camera],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - began


def analyse_here(data: Path, video: Path, camera: str) -> None:
    services = open_services(data)
    try:
        local = RequestContext(LOCAL, uuid.uuid4().hex)
        services.analytics.analyse_as_camera(local, video, camera, STARTED)
    finally:
        services.close()


def overlaps(window: Window, camera: str, start: datetime, end: datetime) -> bool:
    return window[0] == camera and start < window[2] and end > window[1]


Hit = tuple[str, datetime, datetime]  # camera, start, end


@dataclass(frozen=True, slots=True)
class Truth:
    """Each person's appearances: when fully in view (``full``: what is to be found), and
    when in the picture at all (``present``)."""

    full: dict[str, list[Window]]
    present: dict[str, list[Window]]

    @classmethod
    def of(cls, appearances: list[dict[str, str]], until: datetime) -> Truth:
        """From the simulator's truth; what is to be found, of those in full view before
        ``until`` (when the footage ends)."""

        def windows(start: str, end: str, rows: list[dict[str, str]]) -> dict[str, list[Window]]:
            found: dict[str, list[Window]] = {}
            for a in rows:
                span = datetime.fromisoformat(a[start]), datetime.fromisoformat(a[end])
                found.setdefault(a["person"], []).append((a["camera"], *span))
            return found

        ended = [a for a in appearances if datetime.fromisoformat(a["end"]) <= until]
        return cls(windows("start", "end", ended), windows("enters", "leaves", appearances))

    def found(self, name: str, hits: list[Hit]) -> int:
        """The person's appearances that one of the hits overlaps."""
        return sum(any(overlaps(w, *hit) for hit in hits) for w in self.full[name])

    def someone_else(self, name: str, hits: list[Hit]) -> int:
        """The hits at no time the person was in the camera's picture."""
        return sum(not any(overlaps(w, *hit) for w in self.present[name]) for hit in hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--watched", type=int, default=5)
    parser.add_argument("--searched", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--embedder", choices=list(EMBEDDERS), default=None)
    parser.add_argument("--analyse", nargs=3, metavar=("DATA", "VIDEO", "CAMERA"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.analyse:
        data, video, camera = args.analyse
        analyse_here(Path(data), Path(video), camera)
        return
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = people_folder(
            args.datasets / "lfw-dev" / "lfw-deepfunneled", root, args.people, rng
        )
        data = root / "data"
        initialise(data, admin_password=PASSWORD, request_id="bench")
        config = load_config(data)
        # One account does the work of a city's investigators: lift the per-person limits.
        cases = config.cases.model_copy(update={"daily_search_quota": 1000})
        faces = config.faces.model_copy(
            update={"photos_per_minute": 10_000, "embedder": args.embedder or config.faces.embedder}
        )
        print(f"embedder {faces.embedder}")
        save_config(data, config.model_copy(update={"cases": cases, "faces": faces}))
        services = open_services(data)
        try:
            run(args, rng, folder, data, services)
        finally:
            services.close()


def run(
    args: argparse.Namespace, rng: random.Random, folder: Path, data: Path, services: Services
) -> None:
    local = RequestContext(LOCAL, uuid.uuid4().hex)
    cameras = [f"cam{n}" for n in range(1, args.cameras + 1)]
    for camera in cameras:
        services.cameras.add(
            local, CameraSpec(camera, f"rtsp://127.0.0.1:9/{camera}", group="city")
        )
    ivy = as_user(services, "ivy", Role.INVESTIGATOR)
    sue = as_user(services, "sue", Role.SUPERVISOR)
    services.groups.grant(local, "city", "ivy")

    scenario = Scenario(cameras, load_people(folder, None, rng), STARTED, seed=args.seed)
    windows = Truth.of(
        scenario.truth(args.seconds)["appearances"], STARTED + timedelta(seconds=args.seconds)
    )
    seen = sorted(windows.full)
    # Half the watched people are on the watchlist with the photo the cameras show, half
    # with their second photo, which no camera shows.
    watched = rng.sample(seen, min(2 * args.watched, len(seen)))
    shown, unseen = watched[: len(watched) // 2], watched[len(watched) // 2 :]
    for name in watched:
        photo = sorted((folder / name).glob("*.jpg"))[0 if name in shown else 1]
        entry = services.watchlists.propose(
            ivy, name, [(photo.name, photo.read_bytes())], basis="benchmark",
            reference="BENCH-C", expires=datetime.now(UTC) + timedelta(days=1),
        )  # fmt: skip
        services.watchlists.approve(sue, entry.id)

    clock = time.perf_counter()
    videos = {}
    for camera in cameras:
        videos[camera] = root_video = data.parent / f"{camera}.mp4"
        encode(frames(Renderer(scenario, camera), args.seconds), root_video, fps=FPS,
               size=(scenario.width, scenario.height))  # fmt: skip
    rendered = time.perf_counter() - clock
    with ThreadPoolExecutor(args.workers) as pool:
        took = list(pool.map(lambda c: analyse(data, videos[c], c), cameras))
    print(
        f"{len(cameras)} cameras x {args.seconds:.0f} s, {len(scenario.people)} people, "
        f"{sum(map(len, windows.full.values()))} appearances of {len(seen)} of them; "
        f"rendered in {rendered:.0f} s, "
        f"analysed in {sum(took):.0f} s of worker time ({args.workers} at a time)"
    )
    alerts_report(services, windows, shown, "the photo the cameras show")
    alerts_report(services, windows, unseen, "a second photo no camera shows")
    search_report(
        services,
        ivy,
        sue,
        folder,
        cameras,
        windows,
        rng.sample(seen, min(args.searched, len(seen))),
    )
    requests_report(services, sue, folder, windows, rng.sample(seen, min(args.requests, len(seen))))


def alerts_report(services: Services, windows: Truth, watched: list[str], how: str) -> None:
    with services.db.read() as session:
        rows = session.execute(
            select(
                AlertRow.id, WatchlistEntry.label, Camera.name, SightingRow.start, SightingRow.end
            )
            .join(WatchlistEntry, WatchlistEntry.id == AlertRow.entry_id)
            .join(AlertSighting, AlertSighting.alert_id == AlertRow.id)
            .join(SightingRow, SightingRow.id == AlertSighting.sighting_id)
            .join(Camera, Camera.id == AlertRow.camera_id)
        ).all()
    alerts: dict[int, list[tuple[str, str, datetime, datetime]]] = {}
    for alert, label, camera, start, end in rows:
        alerts.setdefault(alert, []).append((label, camera, start, end))
    alerts = {a: parts for a, parts in alerts.items() if parts[0][0] in watched}
    false = sum(
        windows.someone_else(parts[0][0], [(c, s, e) for _, c, s, e in parts]) == len(parts)
        for parts in alerts.values()
    )
    due = [(name, w) for name in watched for w in windows.full[name]]
    covered = sum(
        any(
            label == name and overlaps(w, c, s, e)
            for parts in alerts.values()
            for label, c, s, e in parts
        )
        for name, w in due
    )
    print(
        f"alerts, {len(watched)} people watched with {how}: {covered}/{len(due)} of their "
        f"appearances "
        f"alerted; {len(alerts)} alerts, {false} covering no appearance of their person (false)"
    )


def search_report(
    services: Services,
    ivy: RequestContext,
    sue: RequestContext,
    folder: Path,
    cameras: list[str],
    windows: Truth,
    searched: list[str],
) -> None:
    case = services.cases.open(ivy, CaseSpec(
        subject="people of the benchmark", legal_basis="benchmark", reference="BENCH-S",
        purpose="measure search", start=STARTED - timedelta(hours=1),
        end=STARTED + timedelta(hours=2), expires=datetime.now(UTC) + timedelta(days=1),
        cameras=cameras,
    ))  # fmt: skip
    services.cases.approve(sue, case.id)
    appearances = found = matches = wrong = weak = 0
    for name in searched:
        result = services.search.search(
            ivy, case.id, [second_photo(folder, name)], limit=50, low_quality=True
        )
        weak += result.weak_probe
        hits = [(c.camera, c.start, c.end) for c in result.results if c.match]
        appearances += len(windows.full[name])
        found += windows.found(name, hits)
        matches += len(hits)
        wrong += windows.someone_else(name, hits)
    print(
        f"search: {len(searched)} people searched with a photo no camera showed "
        f"({weak} below the quality bar); {found}/{appearances} appearances found "
        f"({found / max(appearances, 1):.1%}); {matches} match results, {wrong} of them "
        f"someone else ({wrong / max(matches, 1):.1%})"
    )


def requests_report(
    services: Services,
    sue: RequestContext,
    folder: Path,
    windows: Truth,
    asking: list[str],
) -> None:
    dpo = as_user(services, "dana", Role.DPO)
    faces = YuNetBoxes()
    appearances = found = held = wrong = pictures = others = refused = 0
    at_match = possible = possible_found = possible_wrong = 0
    for name in asking:
        try:
            taken = services.subjects.open(
                dpo, [second_photo(folder, name)], reference=name, identity_checked_by="bench"
            )
        except InvalidInput:  # the photo is below the reference bar: no request
            refused += 1
            continue
        services.subjects.approve(sue, taken.id)
        # All that the comparison found, as a reviewer who confirms everything would: what
        # is measured is what a person is shown to judge.
        shown = services.subject_review.found(dpo, taken.id)
        services.subject_review.review(dpo, taken.id, [f.sighting for f in shown])
        matched: list[Hit] = [(f.camera, f.start, f.end) for f in shown if f.match]
        beyond: list[Hit] = [(f.camera, f.start, f.end) for f in shown if not f.match]
        at_match += windows.found(name, matched)
        possible += len(beyond)
        possible_found += windows.found(name, matched + beyond) - windows.found(name, matched)
        possible_wrong += windows.someone_else(name, beyond)
        answer = json.loads(services.subject_reports.report(dpo, taken.id, "json").content)
        hits = [
            (h["camera"], datetime.fromisoformat(h["start"]), datetime.fromisoformat(h["end"]))
            for h in answer["sightings"]
        ]
        appearances += len(windows.full[name])
        found += windows.found(name, hits)
        held += len(hits)
        wrong += windows.someone_else(name, hits)
        for h in answer["sightings"]:
            if h["face_crop_jpeg"]:
                pictures += 1
                picture = Image.open(io.BytesIO(base64.b64decode(h["face_crop_jpeg"])))
                others += len(not_the_subject(faces, np.asarray(picture.convert("RGB"))))
    print(
        f"subject requests: {len(asking) - refused} people asked with a photo no camera "
        f"showed ({refused} photos below the reference bar, refused); "
        f"{found}/{appearances} appearances in their answers ({found / max(appearances, 1):.1%}); "
        f"{held} sightings, {wrong} of them someone else; {pictures} pictures, {others} "
        f"faces found in them outside the subject's place"
    )
    print(
        f"  of those: {at_match}/{appearances} appearances found within the match point "
        f"({at_match / max(appearances, 1):.1%}), {possible_found} more only among the "
        f"{possible} sightings put before the DPO as possible ({possible_wrong} of those "
        f"someone else, for the DPO to reject)"
    )


if __name__ == "__main__":
    main()
