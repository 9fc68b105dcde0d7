"""The physical limit of this machine for live analysis: what each stage alone sustains.

Each camera's feed (a file, as ``vigil sim render`` makes it) is cut at keyframes into
segments of the recorder's length and analysed segment by segment as the pipeline does
(one thread, the camera's face size learned from segment to segment, people counted in the
same pass), and each result stored in a fresh data directory. Each stage's seconds per
second of video is its cost; ``cores / cost`` is how many such cameras that stage alone
would keep up with, and ``cores / (sum of costs)`` the ceiling of the whole chain
(recording aside: the live run measures the recorder's CPU).

``measure_busy`` shares the feeds among one process per core, run at once as the analysis
workers run, so the costs are those of a machine whose cores are all busy (they share
caches, memory bandwidth and clock), not one core's times the cores. Given every camera's
feed of a live run, its costs are those cameras' mean: the cameras' scenes differ (one
camera's feed had half the faces to describe of twelve cameras' mean).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import av

from vigil.analytics.analyzer import VideoAnalyzer
from vigil.analytics.jobs import SegmentJob, analyse_job, people_counter
from vigil.analytics.pipeline import learned_face_px
from vigil.app import Services, open_services
from vigil.auth.roles import LOCAL, RequestContext
from vigil.cameras.registry import CameraSpec
from vigil.config import load_config
from vigil.datadir import initialise
from vigil.faces.build import build_face_engine
from vigil.recording.records import Segment
from vigil.settings import analysis_settings

# What each stage of the analysis holds (AnalysisStats' names), as the ceiling prints it.
STAGES = {
    "decode": ("decode", "motion", "convert"),
    "detect": ("detect", "align"),
    "embed": ("embed", "track"),
    "describe": ("describe",),
    "count": ("count",),
}


@dataclass(frozen=True, slots=True)
class Ceiling:
    video_s: float
    feeds: int
    cores: int
    costs: dict[str, float]  # core-seconds per second of one camera's video, by stage
    search_scale: float  # what the camera's frames were searched at in the end
    sightings: int

    def alone(self, stage: str) -> float:
        return self.cores / self.costs[stage] if self.costs[stage] else float("inf")

    @property
    def cameras(self) -> float:
        return self.cores / sum(self.costs.values())

    def report(self, label: str) -> str:
        lines = [f"\n## ceiling of this machine ({self.cores} cores), {label}"]
        lines.append(
            f"{self.video_s:.0f} s of video of {self.feeds} camera(s), {self.sightings} "
            f"sightings; frames searched at {self.search_scale:.2f} of their width in the end "
            f"(the last camera's)"
        )
        for stage, cost in self.costs.items():
            alone = self.alone(stage)
            lines.append(f"  {stage:9} {1000 * cost:6.1f} ms per video-second: {alone:6.1f} alone")
        setter = max(self.costs, key=lambda s: self.costs[s])
        lines.append(f"  all stages: {self.cameras:.1f} cameras (the largest cost: {setter})")
        return "\n".join(lines)


def split(feed: Path, folder: Path, segment_s: float) -> list[tuple[Path, float, float]]:
    """The feed cut at its keyframes into pieces of about ``segment_s`` (stream copy), with
    each piece's start and end in seconds of the feed."""
    folder.mkdir(parents=True, exist_ok=True)
    pieces: list[tuple[Path, float, float]] = []
    with av.open(str(feed)) as source:
        stream = source.streams.video[0]
        out = None
        begun = 0.0
        for packet in source.demux(stream):
            if packet.pts is None or not packet.size:
                continue
            at = float(packet.pts * packet.time_base)
            if packet.is_keyframe and (out is None or at - begun >= segment_s - 1e-3):
                if out is not None:
                    out[0].close()
                    pieces.append((out[2], begun, at))
                path = folder / f"piece{len(pieces):04d}.mp4"
                container = av.open(str(path), "w")
                out = (container, container.add_stream_from_template(stream), path)
                begun = at
            if out is not None:
                packet.stream = out[1]
                out[0].mux(packet)
                end = at
        if out is not None:
            out[0].close()
            pieces.append((out[2], begun, end + 1.0 / float(stream.average_rate or 10)))
    return pieces


def measure(
    feeds: list[Path], root: Path, *, cores: int, data_config: dict[str, object]
) -> Ceiling:
    """The stages' costs for cameras of these feeds, one after another, with this machine's
    default analysis (``data_config``: faces and counting settings to use instead, e.g. the
    engine)."""
    data = root / "ceiling-data"
    initialise(data, admin_password=uuid.uuid4().hex, request_id="ceiling")
    config = load_config(data)
    config = config.model_copy(update=data_config)
    settings = replace(analysis_settings(config.analytics, 1), decode_threads=1)
    analyzer = VideoAnalyzer(build_face_engine(config.faces, threads=1), settings)
    counter = people_counter(config.counting, 1)
    services = open_services(data)
    spent: dict[str, float] = defaultdict(float)
    video_s, sightings, scale = 0.0, 0, 1.0
    try:
        local = RequestContext(LOCAL, uuid.uuid4().hex)
        pipeline = services.analytics.pipeline
        origin = datetime.now(UTC) - timedelta(hours=1)
        for n, feed in enumerate(feeds):
            spec = CameraSpec(f"cam{n}", f"rtsp://127.0.0.1:1/cam{n}", group="city")
            camera_id = services.cameras.add(local, spec).id
            pieces = split(feed, root / f"pieces{n}", config.recording.segment_s)
            if n == 0:  # models loaded, caches warm
                analyse_job(analyzer, counter, _job(services, camera_id, pieces[0], origin))
            face_px: float | None = None
            for piece in pieces:
                job = replace(_job(services, camera_id, piece, origin), face_px=face_px)
                outcome = analyse_job(analyzer, counter, job, now=job.end)
                for stage, names in STAGES.items():
                    spent[stage] += sum(outcome.stats.stages.get(name, 0.0) for name in names)
                began = time.perf_counter()
                pipeline.store_result(job, outcome)
                spent["store"] += time.perf_counter() - began
                if outcome.stats.smallest_face is not None:
                    face_px = learned_face_px(face_px, outcome.stats.smallest_face)
                sightings += len(outcome.sightings)
                scale = outcome.stats.search_scale
            video_s += pieces[-1][2] - pieces[0][1]
    finally:
        services.close()
    costs = {stage: seconds / video_s for stage, seconds in spent.items()}
    return Ceiling(video_s, len(feeds), cores, costs, scale, sightings)


def measure_busy(
    feeds: list[Path], root: Path, *, cores: int, data_config: dict[str, object]
) -> Ceiling:
    """``measure`` of the feeds shared among ``cores`` processes run at once (each on its
    own data directory); the costs are those of all the feeds' video together."""
    shares = [feeds[n::cores] for n in range(cores) if feeds[n::cores]]
    context = get_context("spawn")
    with ProcessPoolExecutor(len(shares), mp_context=context) as pool:
        runs = list(
            pool.map(
                _measure_in,
                [(share, root / f"core{n}", cores, data_config) for n, share in enumerate(shares)],
            )
        )
    video_s = sum(run.video_s for run in runs)
    costs = {
        stage: sum(run.costs[stage] * run.video_s for run in runs) / video_s
        for stage in runs[0].costs
    }
    return replace(
        runs[-1],
        video_s=video_s,
        feeds=len(feeds),
        costs=costs,
        sightings=sum(run.sightings for run in runs),
    )


def _measure_in(task: tuple[list[Path], Path, int, dict[str, object]]) -> Ceiling:
    feeds, root, cores, data_config = task
    return measure(feeds, root, cores=cores, data_config=data_config)


def _job(
    services: Services, camera_id: int, piece: tuple[Path, float, float], origin: datetime
) -> SegmentJob:
    """The piece indexed as a segment of the camera, and its job."""
    path, start, end = piece
    data = path.read_bytes()
    segment = services.segments.add(
        Segment(0, camera_id, origin + timedelta(seconds=start), origin + timedelta(seconds=end),
                len(data), hashlib.sha256(data).hexdigest(), f"ceiling/{uuid.uuid4().hex}.mp4")
    )  # fmt: skip
    return services.analytics.pipeline.job(segment, path)
