"""The recorder: one ingest supervisor per enabled camera, health, retention and recovery."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from vigil.auth.access import Access
from vigil.auth.roles import SYSTEM, RequestContext
from vigil.cameras.ingest import Backoff, CameraSupervisor, IngestTarget
from vigil.cameras.sources import Timeouts
from vigil.config import RecordingConfig
from vigil.recording.index import Segment, SegmentIndex
from vigil.recording.live import LiveHub
from vigil.recording.media import MediaStore, SegmentName
from vigil.recording.retention import PruneResult, Retention, RetentionPolicy
from vigil.recording.segments import SegmentWriter, utc

logger = logging.getLogger(__name__)

HEALTH_INTERVAL_S = 2.0
CAMERAS_INTERVAL_S = 10.0


class TargetSource(Protocol):
    def ingest_targets(self) -> list[IngestTarget]: ...


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
        self.retention = Retention(
            index,
            store,
            RetentionPolicy(
                retain_days=config.retain_days,
                max_bytes=config.max_bytes,
                free_target_bytes=config.min_free_bytes * 3 // 2,
            ),
        )
        self.supervisors: dict[int, CameraSupervisor] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._maintain, name="recorder", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.recover()
        self.sync_cameras()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        for supervisor in self.supervisors.values():
            supervisor.stop()
        if self._thread.is_alive():
            self._thread.join(10)
        self._save_health()

    def recover(self) -> dict[str, int]:
        """After a crash: drop unfinished part files, index complete files the index lacks."""
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
            self.index.add(
                Segment(
                    id=0,
                    camera_id=name.camera_id,
                    start=utc(name.start_ms / 1000),
                    end=utc(name.end_ms / 1000),
                    bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    path=relative,
                )
            )
            indexed += 1
        if removed or indexed:
            logger.warning(
                "recovery: removed %d unfinished part files, indexed %d segments", removed, indexed
            )
        return {"removed_parts": removed, "indexed_segments": indexed}

    def sync_cameras(self) -> None:
        """Start supervisors for new or re-enabled cameras, stop those removed or disabled."""
        wanted = {t.camera_id: t for t in self.targets.ingest_targets()}
        for camera_id in list(self.supervisors):
            supervisor = self.supervisors[camera_id]
            if wanted.get(camera_id) != supervisor.target:
                supervisor.stop()
                del self.supervisors[camera_id]
        for camera_id, target in wanted.items():
            if camera_id not in self.supervisors:
                supervisor = self._supervisor(target)
                self.supervisors[camera_id] = supervisor
                supervisor.start()

    def _supervisor(self, target: IngestTarget) -> CameraSupervisor:
        c = self.config
        writer = SegmentWriter(
            target.camera_id, self.store, self.index, c.segment_s, self.on_segment
        )
        return CameraSupervisor(
            target,
            writer,
            self.index,
            self.live,
            timeouts=Timeouts(open_s=c.open_timeout_s, read_s=c.read_timeout_s),
            backoff=Backoff(initial_s=c.backoff_initial_s, max_s=c.backoff_max_s),
        )

    # -- maintenance --------------------------------------------------------------------
    def prune(self) -> PruneResult:
        result = self.retention.prune(datetime.now(UTC))
        if result.segments:
            ctx = RequestContext(SYSTEM, uuid.uuid4().hex, client="recorder")
            self.access.record_alone(ctx, "recording.prune", "segments", result.to_dict())
        for task in self.housekeeping:
            task()
        return result

    def _maintain(self) -> None:
        next_cameras = next_prune = 0.0
        clock = 0.0
        while not self._stop.wait(0 if clock == 0 else HEALTH_INTERVAL_S):
            clock += HEALTH_INTERVAL_S
            try:
                self._save_health()
                if clock >= next_cameras:
                    self.sync_cameras()
                    next_cameras = clock + CAMERAS_INTERVAL_S
                if clock >= next_prune or any(
                    s.state == "disk_full" for s in self.supervisors.values()
                ):
                    self.prune()
                    next_prune = clock + self.config.retention_interval_s
            except Exception:  # the top of a worker loop: log and carry on
                logger.exception("recorder maintenance failed")

    def _save_health(self) -> None:
        if self.supervisors:
            self.index.save_health([s.health() for s in self.supervisors.values()])
