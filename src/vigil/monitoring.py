"""Prometheus metrics: camera health, the media disk, analysis backlog and lag, alerts,
and the search index's memory.

Read from the store at scrape time, so any API process reports what every recorder and
worker stored (the search index: this process's own, which serves its searches); nothing
is kept in process-global registries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from vigil.analytics.pipeline import backlog
from vigil.auth.access import Access
from vigil.auth.roles import Permission, RequestContext
from vigil.cluster.state import QueueState
from vigil.errors import PeerUnavailable
from vigil.recording.index import SegmentIndex
from vigil.search.vectors import FaissDayIndex
from vigil.store.db import Database
from vigil.store.models import AlertRow, Camera, CameraHealth

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# The cluster's work queue now (cluster mode); raises PeerUnavailable when NATS is away.
QueueReader = Callable[[], QueueState]


class VigilCollector(Collector):
    def __init__(
        self,
        db: Database,
        segments: SegmentIndex,
        queue: QueueReader | None = None,
        index: FaissDayIndex | None = None,
    ) -> None:
        self.db = db
        self.segments = segments
        self.queue = queue
        self.index = index

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = backlog(self.segments)
        yield GaugeMetricFamily(
            "vigil_analysis_backlog_segments",
            "Recorded segments not yet analysed",
            waiting.segments,
        )
        yield GaugeMetricFamily(
            "vigil_analysis_lag_seconds",
            "Age of the oldest segment waiting",
            waiting.lag_s(datetime.now(UTC)),
        )
        yield GaugeMetricFamily(
            "vigil_analysis_failed_segments",
            "Segments whose analysis failed every attempt (given up on)",
            waiting.failed_segments,
        )
        yield GaugeMetricFamily(
            "vigil_analysis_failed_frames",
            "Frames skipped because they failed",
            waiting.failed_frames,
        )
        yield GaugeMetricFamily(
            "vigil_analysis_lowered_segments",
            "Segments analysed in the last 10 minutes at a rate lowered because analysis was "
            "behind",
            waiting.lowered_segments,
        )
        yield GaugeMetricFamily(
            "vigil_analysis_lowest_fps",
            "The lowest such rate in the last 10 minutes (0: none lowered)",
            waiting.lowest_fps or 0.0,
        )
        up = GaugeMetricFamily("vigil_camera_up", "1 while the camera streams", labels=["camera"])
        fps = GaugeMetricFamily("vigil_camera_fps", "Frames per second received", labels=["camera"])
        bitrate = GaugeMetricFamily(
            "vigil_camera_bitrate_bps", "Bits per second received", labels=["camera"]
        )
        reconnects = GaugeMetricFamily(
            "vigil_camera_reconnects", "Reconnects since the recorder started", labels=["camera"]
        )
        recording = GaugeMetricFamily(
            "vigil_camera_recording", "1 while the camera is written to disk", labels=["camera"]
        )
        alerts = GaugeMetricFamily("vigil_alerts", "Alerts by review state", labels=["state"])
        with self.db.read() as session:
            rows = session.execute(
                select(Camera.name, CameraHealth).join(
                    CameraHealth, CameraHealth.camera_id == Camera.id
                )
            )
            for name, health in rows:
                up.add_metric([name], 1.0 if health.state in ("online", "disk_full") else 0.0)
                recording.add_metric([name], 1.0 if health.state == "online" else 0.0)
                fps.add_metric([name], health.fps)
                bitrate.add_metric([name], health.bitrate_bps)
                reconnects.add_metric([name], health.reconnects)
            for state, n in session.execute(
                select(AlertRow.state, func.count(AlertRow.id)).group_by(AlertRow.state)
            ):
                alerts.add_metric([state], n)
        yield from (up, recording, fps, bitrate, reconnects, alerts)
        yield from self._storage()
        if self.queue is not None:
            yield from self._queue(self.queue)
        if self.index is not None:
            yield from self._index(self.index)

    def _index(self, index: FaissDayIndex) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "vigil_search_index_bytes",
            "Memory the search index's descriptors take in this process",
            index.partitions.nbytes,
        )
        if index.budget is not None:
            yield GaugeMetricFamily(
                "vigil_search_index_budget_bytes",
                "The most the search index keeps between searches ([cases] search_memory_mib)",
                index.budget,
            )
        yield GaugeMetricFamily(
            "vigil_search_index_let_go",
            "Camera-days let go to stay within the budget since the process started",
            index.let_go,
        )

    def _queue(self, read: QueueReader) -> Iterator[GaugeMetricFamily]:
        try:
            state = read()
        except PeerUnavailable:
            yield GaugeMetricFamily("vigil_cluster_nats_up", "1 while NATS answers", 0.0)
            return
        yield GaugeMetricFamily("vigil_cluster_nats_up", "1 while NATS answers", 1.0)
        for name, help_text, value in (
            ("jobs_waiting", "Segment jobs in the work queue", state.jobs_waiting),
            ("jobs_in_progress", "Jobs delivered, not yet acknowledged", state.jobs_in_progress),
            ("jobs_redelivered", "Jobs delivered again, not yet done", state.jobs_redelivered),
            ("dead_letters", "Jobs given up on (dead-letter subject)", state.dead_letters),
        ):
            yield GaugeMetricFamily(f"vigil_cluster_{name}", help_text, value)

    def _storage(self) -> Iterator[GaugeMetricFamily]:
        pressure = GaugeMetricFamily(
            "vigil_storage_disk_pressure",
            "1 while retention may not delete enough to keep recording",
            labels=["node"],
        )
        free = GaugeMetricFamily(
            "vigil_storage_free_bytes", "Free bytes on the media disk", labels=["node"]
        )
        recorded = GaugeMetricFamily(
            "vigil_storage_recorded_bytes", "Bytes of footage on the media disk", labels=["node"]
        )
        rate = GaugeMetricFamily(
            "vigil_storage_write_bps", "Bytes per second being recorded", labels=["node"]
        )
        for disk in self.segments.storage():
            pressure.add_metric([disk.node], 1.0 if disk.state == "disk_pressure" else 0.0)
            free.add_metric([disk.node], disk.free_bytes)
            recorded.add_metric([disk.node], disk.recorded_bytes)
            rate.add_metric([disk.node], disk.write_bps)
        yield from (pressure, free, recorded, rate)


class Monitoring:
    def __init__(
        self,
        access: Access,
        segments: SegmentIndex,
        queue: QueueReader | None = None,
        index: FaissDayIndex | None = None,
    ) -> None:
        self.access = access
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(VigilCollector(access.db, segments, queue, index))

    def scrape(self, ctx: RequestContext) -> bytes:
        """The metrics in Prometheus' text format; each scrape is audited like any read."""
        with self.access.attempt(ctx, Permission.METRICS_READ, "metrics.read", "metrics"):
            text = generate_latest(self.registry)
        self.access.record_alone(ctx, "metrics.read", "metrics")
        return text
