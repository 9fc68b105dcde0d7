"""The recorder: one ingest supervisor per enabled camera, health, retention and recovery."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from vigil.auth.access import Access
from vigil.auth.roles import SYSTEM, RequestContext
from vigil.cameras.ingest import Backoff, CameraSupervisor, IngestTarget
from vigil.cameras.sources import Timeouts
from vigil.config import RecordingConfig
from vigil.errors import VigilError
from vigil.logthrottle import Throttle
from vigil.recording.index import SegmentIndex
from vigil.recording.live import LiveHub
from vigil.recording.media import ANALYSIS, MAIN, MediaStore, SegmentName
from vigil.recording.records import Segment, Storage
from vigil.recording.retention import PruneResult, Retention, RetentionPolicy, WriteMeter
from vigil.recording.segments import SegmentWriter, utc

logger = logging.getLogger(__name__)

HEALTH_INTERVAL_S = 2.0
CAMERAS_INTERVAL_S = 10.0
MIN_PASS_GAP_S = 0.5  # retention passes at most this often, however often it is woken


class TargetSource(Protocol):
    def ingest_targets(self, node: str | None = None) -> list[IngestTarget]: ...


class Recorder:
    def __init__(
        self,
        access: Access,
        targets: TargetSource,
        index: SegmentIndex,
        store: MediaStore,
        live: LiveHub,
        config: RecordingConfig,
        on_segment: Callable[[Segment], None] | None = None,
        housekeeping: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.access = access
        self.on_segment = on_segment
        # Other retention work run on the same schedule (e.g. biometric expiry).
        self.housekeeping = housekeeping
        self.targets = targets
        self.index = index
        self.store = store
        self.live = live
        self.config = config
        self.meter = WriteMeter()
        self.retention = Retention(
            index,
            store,
            RetentionPolicy(
                retain_days=config.retain_days,
                max_bytes=config.max_bytes,
                reserve_bytes=store.min_free_bytes,
                floor_s=config.floor_hours * 3600,
                headroom_s=config.headroom_s,
            ),
        )
        self.node = index.node or socket.gethostname()
        self.pressure: str | None = None  # why retention cannot make room, while it cannot
        self._throttle = Throttle(logger)
        self.pass_seconds: deque[float] = deque(maxlen=1000)  # how long retention passes took
        self.supervisors: dict[int, CameraSupervisor] = {}  # each camera's recording
        self.analysis_streams: dict[int, CameraSupervisor] = {}  # where a camera has one
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._maintain, name="recorder", daemon=True),
            threading.Thread(target=self._retain, name="retention", daemon=True),
        ]

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        # Recovery, then room before the first write and the disk's state on record; a
        # store on a full disk fails both, and the cameras still start (live view goes on).
        for step in (self.recover, self.prune):
            try:
                step()
            except (VigilError, SQLAlchemyError) as exc:
                logger.warning("recorder start: %s failed: %s", step.__name__, exc)
        self.sync_cameras()
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.meter.due.set()
        for supervisor in [*self.supervisors.values(), *self.analysis_streams.values()]:
            supervisor.stop()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(10)
        self._save_health()

    def recover(self) -> dict[str, int]:
        """After a crash: drop unfinished part files, index complete files the index lacks
        (and hand them to analysis)."""
        removed = 0
        for part in self.store.leftovers():
            part.unlink(missing_ok=True)
            removed += 1
        known = self.index.paths()
        indexed = 0
        for relative in self.store.segment_files():
            name = SegmentName.parse(relative)
            if relative in known or name is None or name.relative != relative:
                continue
            data = self.store.path(relative).read_bytes()
            segment = self.index.add(
                Segment(
                    id=0,
                    camera_id=name.camera_id,
                    start=utc(name.start_ms / 1000),
                    end=utc(name.end_ms / 1000),
                    bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    path=relative,
                    stream=name.stream,
                )
            )
            if self.on_segment is not None:  # analysed like any new segment
                self.on_segment(segment)
            indexed += 1
        if removed or indexed:
            logger.warning(
                "recovery: removed %d unfinished part files, indexed %d segments", removed, indexed
            )
        return {"removed_parts": removed, "indexed_segments": indexed}

    def sync_cameras(self) -> None:
        """Start supervisors for new or re-enabled cameras (and analysis streams), stop those
        removed, disabled or changed."""
        targets = self.targets.ingest_targets(self.index.node)
        for stream, running in ((MAIN, self.supervisors), (ANALYSIS, self.analysis_streams)):
            wanted = {t.camera_id: t for t in targets if t.stream == stream}
            for camera_id in list(running):
                if wanted.get(camera_id) != running[camera_id].target:
                    running.pop(camera_id).stop()
            for camera_id, target in wanted.items():
                if camera_id not in running:
                    running[camera_id] = self._supervisor(target)
                    running[camera_id].start()

    def _closed(self, segment: Segment) -> None:
        """A segment is indexed: to analysis, unless it is a recording's whose camera's
        analysis stream was streaming all through it (its segments are analysed instead)."""
        sub = self.analysis_streams.get(segment.camera_id)
        if (
            segment.stream == MAIN
            and sub is not None
            and sub.online_since is not None
            and sub.online_since <= segment.start.timestamp()
        ):
            self.index.analysed_elsewhere(segment.id)
        elif self.on_segment is not None:
            self.on_segment(segment)

    def _supervisor(self, target: IngestTarget) -> CameraSupervisor:
        c = self.config
        writer = SegmentWriter(
            target.camera_id,
            self.store,
            self.index,
            c.segment_s,
            self._closed,
            on_written=self.meter.add,
            stream=target.stream,
        )
        return CameraSupervisor(
            target,
            writer,
            self.index,
            self.live,
            timeouts=Timeouts(open_s=c.open_timeout_s, read_s=c.read_timeout_s),
            backoff=Backoff(initial_s=c.backoff_initial_s, max_s=c.backoff_max_s),
            on_disk_full=self.meter.due.set,
        )

    # -- maintenance --------------------------------------------------------------------
    def prune(self) -> PruneResult:
        """One retention pass; each reason it deleted for is audited with the disk's numbers."""
        began = time.monotonic()
        rate = self.meter.rate_bps()
        result = self.retention.prune(datetime.now(UTC), rate)
        self.meter.passed(result.wanted_free_bytes - self.retention.policy.reserve_bytes)
        ctx = RequestContext(SYSTEM, uuid.uuid4().hex, client="recorder")
        for why, deleted in result.deleted.items():
            details = {"why": why, **deleted.to_dict(), **result.disk()}
            self.access.record_alone(ctx, "recording.prune", "segments", details)
        if result.pressure != self.pressure:
            self._pressure_changed(ctx, result)
        self.index.save_storage(
            Storage(
                node=self.node,
                state="ok" if result.pressure is None else "disk_pressure",
                detail=result.pressure,
                free_bytes=result.free_bytes,
                recorded_bytes=result.recorded_bytes,
                wanted_free_bytes=result.wanted_free_bytes,
                write_bps=rate,
                updated_at=datetime.now(UTC),
            )
        )
        self.pass_seconds.append(time.monotonic() - began)
        return result

    def _pressure_changed(self, ctx: RequestContext, result: PruneResult) -> None:
        """Disk pressure begins or ends: on the record, and in the log once each way."""
        begun = result.pressure is not None and self.pressure is None
        ended = result.pressure is None
        if begun:
            logger.warning("disk pressure: %s", result.pressure)
        elif ended:
            logger.info("disk pressure is over")
        if begun or ended:
            state = "begun" if begun else "ended"
            details = {"state": state, "detail": result.pressure, **result.disk()}
            self.access.record_alone(ctx, "recording.disk_pressure", "media", details)
        self.pressure = result.pressure

    def _maintain(self) -> None:
        """Health every 2 s, the camera list every 10 s."""
        next_cameras = 0.0
        while not self._stop.wait(0 if next_cameras == 0 else HEALTH_INTERVAL_S):
            try:
                self._save_health()
                if time.monotonic() >= next_cameras:
                    self.sync_cameras()
                    next_cameras = time.monotonic() + CAMERAS_INTERVAL_S
            except Exception as exc:  # noqa: BLE001 - a worker loop's top: logged, carries on
                self._throttle.log(
                    logging.ERROR, "maintain", "recorder maintenance failed", exc_info=exc
                )

    def _retain(self) -> None:
        """Retention when a quarter of the headroom is written (or a disk is full), else on
        the interval; other housekeeping (biometric expiry) on the interval."""
        interval = self.config.retention_interval_s
        next_housekeeping = time.monotonic() + interval
        while not self._stop.is_set():
            self.meter.due.wait(max(0.0, next_housekeeping - time.monotonic()))
            if self._stop.is_set():
                break
            try:
                self.prune()
                if time.monotonic() >= next_housekeeping:
                    next_housekeeping = time.monotonic() + interval
                    for task in self.housekeeping:
                        task()
            except Exception as exc:  # noqa: BLE001 - a worker loop's top: logged, carries on
                self._throttle.log(logging.ERROR, "retain", "retention failed", exc_info=exc)
            self._stop.wait(MIN_PASS_GAP_S)

    def _save_health(self) -> None:
        if self.supervisors:
            self.index.save_health([s.health() for s in self.supervisors.values()])
