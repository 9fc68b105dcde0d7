"""Analysis jobs: one per recorded segment, run in worker processes, results stored here.

The unit of work is a segment (DESIGN.md): a job is idempotent, since storing its result
replaces the segment's sightings, so redelivery and retries are safe. ``JobQueue`` is the
interface a NATS JetStream work queue would also implement (ack on store, redeliver on
failure); ``ProcessJobQueue`` is the embedded default. Workers are processes because the
face models hold the GIL while they run; threads would stall recording and the API.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from vigil.analytics.analyzer import AnalysisSettings, AnalysisStats, Sighting, VideoAnalyzer
from vigil.config import CountingConfig, FacesConfig
from vigil.crowds.counting import Count, PeopleCounter
from vigil.crowds.detector import CountSettings, PersonDetector
from vigil.errors import DiskFull
from vigil.faces.build import build_face_engine, cores_each
from vigil.logthrottle import Throttle
from vigil.recording.media import MAIN

logger = logging.getLogger(__name__)

PARENT_CHECK_S = 1.0


@dataclass(frozen=True, slots=True)
class SegmentJob:
    segment_id: int
    camera_id: int
    path: Path
    start: float  # epoch seconds of the segment's first frame
    end: float
    sample_fps: float | None = None  # the camera's own rate, if it has one
    # Re-analysis replaces the stored result; a first analysis stores nothing if another
    # run (a job delivered twice) stored one already.
    redo: bool = False
    # False inside a no-identification zone: no face is detected, described or kept.
    identify: bool = True
    face_px: float | None = None  # the smallest face the camera showed lately
    stream: str = MAIN  # the camera's recording, or its analysis stream


@dataclass(frozen=True, slots=True)
class Outcome:
    sightings: list[Sighting]
    stats: AnalysisStats
    counts: list[Count]
    lowered_fps: float | None = None  # the rate back-pressure chose, below the camera's


def analyse_job(
    analyzer: VideoAnalyzer,
    counter: PeopleCounter | None,
    job: SegmentJob,
    now: float | None = None,
) -> Outcome:
    """A segment's faces (unless the job may not identify anyone) and people counts, in one
    decode; when analysis is behind, at a lowered rate (``sampled_rate``), and people
    counted less often by the same factor."""
    rate = sampled_rate(analyzer.settings, job, time.time() if now is None else now)
    own = job.sample_fps or analyzer.settings.sample_fps
    if not job.identify:
        counts = [] if counter is None else counter.count(job.path, job.start)
        return Outcome([], AnalysisStats(), counts)
    threshold = analyzer.settings.motion_threshold
    sampler = None
    if counter is not None:
        sampler = counter.sampler(job.start, threshold, counter.every_s * own / rate)
    sightings, stats = analyzer.analyse(
        job.path, job.start, sample_fps=rate, face_px=job.face_px, counts=sampler
    )
    counts = [] if sampler is None else sampler.counts
    return Outcome(sightings, stats, counts, rate if rate < own else None)


def sampled_rate(settings: AnalysisSettings, job: SegmentJob, now: float) -> float:
    """The frames a second to analyse the segment at: its camera's rate while the segment
    ended at most ``busy_lag_s`` ago; when analysis is later than that, a rate falling in
    step with the lag, down to ``min_sample_fps`` at ``lag_bound_s``: the lag is held under
    the bound by sampling fewer frames (decoding is not lowered with it), never by leaving
    segments out. A re-analysis is never lowered."""
    rate = job.sample_fps or settings.sample_fps
    floor = min(rate, settings.min_sample_fps)
    lag = now - job.end
    if job.redo or lag <= settings.busy_lag_s:
        return rate
    late = min(1.0, (lag - settings.busy_lag_s) / (settings.lag_bound_s - settings.busy_lag_s))
    return rate - (rate - floor) * late


def people_counter(config: CountingConfig, threads: int) -> PeopleCounter | None:
    if not config.enabled:
        return None
    settings = CountSettings(tile_scale=config.tile_scale, score=config.score)
    return PeopleCounter(PersonDetector(settings, threads=threads), config.every_s, threads)


ResultHandler = Callable[[SegmentJob, Outcome], object]
# Told of a failed job and why; answers whether to try the job again.
FailureHandler = Callable[[SegmentJob, str], bool]


class JobQueue(Protocol):
    # Whether its workers are elsewhere and read a segment's analysis settings themselves
    # when they take its job: the job it is handed then needs the segment alone.
    remote: bool

    def submit(self, job: SegmentJob) -> None: ...

    def backlog(self) -> int:
        """Jobs submitted and not yet finished."""
        ...

    def close(self) -> None: ...


_worker: VideoAnalyzer | None = None
_counter: PeopleCounter | None = None


def _start_worker(
    faces: FacesConfig, settings: AnalysisSettings, counting: CountingConfig, threads: int
) -> None:
    # Ctrl-C in a terminal reaches every process of the group: the parent stops the
    # workers in order (a worker killed mid-job would break the pool for the last segments).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    global _worker, _counter  # noqa: PLW0603 - one analyser per worker process, made once
    _worker = VideoAnalyzer(
        build_face_engine(faces, threads=threads), replace(settings, decode_threads=threads)
    )
    _counter = people_counter(counting, threads)
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    """A worker outlives a killed recorder otherwise (kill -9 runs no clean-up)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


def _analyse(job: SegmentJob) -> Outcome:
    if _worker is None:
        raise RuntimeError("the worker was not started")
    return analyse_job(_worker, _counter, job)


class ProcessJobQueue:
    remote = False  # its workers take the job as the pipeline made it

    def __init__(
        self,
        on_result: ResultHandler,
        on_failure: FailureHandler,
        *,
        workers: int,
        faces: FacesConfig,
        settings: AnalysisSettings,
        counting: CountingConfig,
    ) -> None:
        self.on_result = on_result
        self.on_failure = on_failure
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=(faces, settings, counting, cores_each(workers)),
        )
        self._lock = threading.Lock()
        self._pending: dict[int, SegmentJob] = {}
        self.done = 0
        self.failed = 0
        self.seconds_busy = 0.0
        self._throttle = Throttle(logger)

    def submit(self, job: SegmentJob) -> None:
        """Queue the segment; once the queue is closing (or its workers died), the segment
        stays in the stored backlog for the next start instead."""
        with self._lock:
            if job.segment_id in self._pending:
                return  # already queued: the same segment needs one run
            self._pending[job.segment_id] = job
        try:
            future = self._pool.submit(_analyse, job)
        except RuntimeError as exc:  # shut down, or BrokenProcessPool
            with self._lock:
                self._pending.pop(job.segment_id, None)
            self._throttle.log(
                logging.WARNING,
                "closed",
                "segment %d is left in the backlog: the analysis workers are gone (%s)",
                job.segment_id,
                exc,
            )
            return
        began = time.monotonic()
        future.add_done_callback(lambda f: self._finished(job, f, began))

    def _finished(self, job: SegmentJob, future: Future[Outcome], began: float) -> None:
        retry = False
        try:
            if future.cancelled():  # closing: the segment stays in the stored backlog
                return
            self.on_result(job, future.result())
            self.done += 1
        except Exception as exc:  # noqa: BLE001 - a worker loop's top: logged, counted
            self._throttle.log(
                logging.ERROR,
                type(exc).__name__,
                "analysis of segment %d failed",
                job.segment_id,
                exc_info=exc,
            )
            self.failed += 1
            retry = self._failed(job, f"{type(exc).__name__}: {exc}")
        finally:
            self.seconds_busy += time.monotonic() - began
            with self._lock:
                self._pending.pop(job.segment_id, None)
        if retry:
            self.submit(job)

    def _failed(self, job: SegmentJob, error: str) -> bool:
        try:
            return self.on_failure(job, error)
        except (SQLAlchemyError, DiskFull) as exc:  # the segment stays in the backlog
            self._throttle.log(
                logging.ERROR,
                "unrecorded",
                "the failure of segment %d was not recorded: %s",
                job.segment_id,
                exc,
            )
            return False

    def backlog(self) -> int:
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
