"""Analysis for people: a camera's recordings again, or a video file as camera footage.

``analyse_as_camera`` trusts the camera and time it is given, so no command or route reaches
it (benchmarks and tests feed footage through it). A file someone brings in is evidence of
its own kind, imported into a case (``investigations.imports``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from vigil.analytics.analyzer import AnalysisStats, Progress, VideoAnalyzer
from vigil.analytics.jobs import analyse_job
from vigil.analytics.matching import Matcher
from vigil.analytics.pipeline import AnalysisPipeline
from vigil.analytics.sightings import store_sightings
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.cameras.registry import find_camera
from vigil.crowds.counting import PeopleCounter
from vigil.crowds.zones import covers
from vigil.errors import Forbidden, InvalidInput
from vigil.recording.files import SegmentFiles
from vigil.recording.index import SegmentIndex
from vigil.recording.playback import video_seconds
from vigil.recording.service import TimeRange

MAX_RERUN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class ImportResult:
    camera: str
    file: str
    start: datetime
    sightings: list[int]
    alerts: int
    stats: AnalysisStats
    case: int | None = None  # an import into a case: its evidence, seen there alone
    sha256: str | None = None
    from_export: int | None = None  # the audit entry of the Vigil export it is

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "sha256": self.sha256,
            "from_export": self.from_export,
            "camera": self.camera,
            "file": self.file,
            "start": self.start.isoformat(),
            "sightings": len(self.sightings),
            "sighting_ids": self.sightings,
            "alerts": self.alerts,
            "video_seconds": round(self.stats.seconds, 2),
            "frames_decoded": self.stats.frames_decoded,
            "frames_sampled": self.stats.frames_sampled,
            "frames_still": self.stats.frames_still,
            "frames_failed": self.stats.frames_failed,
            "cuts": self.stats.cuts,
            "faces": self.stats.faces,
        }


@dataclass(frozen=True, slots=True)
class ReanalysisResult:
    camera: str
    segments: int
    sightings: int
    failed: int  # segments that could not be analysed (damaged): counted, skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "segments": self.segments,
            "sightings": self.sightings,
            "failed": self.failed,
        }


class AnalyticsService:
    def __init__(
        self,
        access: Access,
        analyzer: VideoAnalyzer,
        index: SegmentIndex,
        files: SegmentFiles,
        matcher: Matcher,
        scratch: Path,
        counter: PeopleCounter | None = None,
    ) -> None:
        self.access = access
        self.db = access.db
        self.analyzer = analyzer
        self.counter = counter
        self.index = index
        self.files = files
        self.matcher = matcher
        self.scratch = scratch  # copies of other cluster nodes' segments, while analysed
        self.pipeline = AnalysisPipeline(access.db, index, files.store, matcher)

    def reanalyse(
        self,
        ctx: RequestContext,
        camera: str,
        start: datetime,
        end: datetime,
        progress: Callable[[int, int], None] | None = None,
    ) -> ReanalysisResult:
        """Analyse a camera's recorded segments in the range again, here and now; audited."""
        target = f"camera:{camera}"
        with self.access.attempt(ctx, Permission.ANALYTICS_RUN, "analysis.rerun", target):
            span = TimeRange(start, end).limit(MAX_RERUN)
            with self.db.read() as session:
                camera_id = find_camera(session, camera).id
            segments = self.index.between(camera_id, span.start, span.end)
            found = failed = 0
            self.scratch.mkdir(parents=True, exist_ok=True)
            for done, segment in enumerate(segments, 1):
                with self.files.opened(segment, self.scratch) as path:
                    job = self.pipeline.job(segment, path, redo=True)
                    try:
                        outcome = analyse_job(self.analyzer, self.counter, job)
                    except InvalidInput as exc:  # one damaged segment: recorded, the rest go on
                        self.pipeline.store_failure(job, exc.message)
                        failed += 1
                    else:
                        self.pipeline.store_result(job, outcome)
                        found += len(outcome.sightings)
                if progress is not None:
                    progress(done, len(segments))
            result = ReanalysisResult(camera, len(segments), found, failed)
            self.access.record_alone(
                ctx, "analysis.rerun", target, span.to_dict() | result.to_dict()
            )
            return result

    def analyse_as_camera(
        self,
        ctx: RequestContext,
        path: Path,
        camera: str,
        start: datetime,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Analyse a video file as the camera's footage from ``start``, alerts included;
        audited. It trusts the camera and time it is given: no command or route calls it."""
        target = f"camera:{camera}"
        with self.access.attempt(ctx, Permission.ANALYTICS_RUN, "analysis.import", target):
            if start.tzinfo is None:
                raise InvalidInput("the start time needs a time zone, e.g. 2026-11-23T10:00Z")
            if not path.is_file():
                raise InvalidInput(f"{path} is not a file")
            with self.db.read() as session:
                found = find_camera(session, camera)
                rate = found.analysis_fps
                until = start + timedelta(seconds=video_seconds(path))
                if covers(session, found.id, start, until):
                    raise Forbidden(
                        f"camera {camera} is in a no-identification zone then: "
                        "its footage is not analysed for faces"
                    )
            sightings, stats = self.analyzer.analyse(
                path, start.timestamp(), progress, sample_fps=rate
            )
            with self.db.write() as session:
                camera_id = find_camera(session, camera).id
                ids = store_sightings(session, camera_id, sightings, source=f"import:{path.name}")
                alerts = self.matcher.match(session, ids)
                result = ImportResult(camera, path.name, start, ids, len(alerts), stats)
                details = {k: v for k, v in result.to_dict().items() if k != "sighting_ids"}
                self.access.record(session, ctx, "analysis.import", target, details)
            return result
