"""``vigil worker``: takes segment jobs from JetStream, analyses them, stores the result.

A job is acknowledged once its result (or its final failure) is stored; a worker that dies
mid-job leaves it unacknowledged, and JetStream delivers it again after the ack wait. While
a job runs the worker says "in progress" every third of the ack wait, so a long analysis is
not taken for a dead worker. What cannot be done now (NATS, PostgreSQL or the ingest node
unreachable) is handed back with a delay; an analysis that fails is counted on the segment,
and after its last try the job goes to the dead-letter subject.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from sqlalchemy.exc import SQLAlchemyError

from vigil.analytics.analyzer import VideoAnalyzer
from vigil.analytics.jobs import SegmentJob, analyse_job
from vigil.analytics.pipeline import AnalysisPipeline
from vigil.cluster.link import connect
from vigil.cluster.streams import (
    ALERT_SUBJECT,
    DEAD_SUBJECT,
    JOB_SUBJECT,
    JOBS,
    WORKERS,
    worker_consumer,
)
from vigil.config import ClusterConfig
from vigil.crowds.counting import PeopleCounter
from vigil.errors import NotFound, PeerUnavailable, VigilError
from vigil.recording.files import SegmentFiles

logger = logging.getLogger(__name__)

FETCH_WAIT_S = 2.0
RETRY_DELAY_S = 2.0  # before a failed analysis is tried again
# Before a job that could not be done now is tried again: doubling from the first to the
# last, so that the default 10 deliveries wait out about 6 minutes of a node or database
# being away.
UNREACHABLE_DELAY_S = (5.0, 60.0)


def unreachable_delay(delivery: int) -> float:
    first, last = UNREACHABLE_DELAY_S
    return min(last, first * 2.0 ** min(delivery - 1, 8))


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class WorkerStats:
    done: int = 0  # analysed and stored
    skipped: int = 0  # analysed already, or deleted by retention, when delivered
    redelivered: int = 0  # deliveries after the first (a worker died, a try failed)
    failed: int = 0  # analyses that raised
    deferred: int = 0  # handed back: a peer was unreachable
    dead: int = 0  # sent to the dead-letter subject
    alerts: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class AnalysisFailed(VigilError):
    """One segment's analysis raised; counted on the segment, never raised past the worker."""

    code = "analysis_failed"

    def __init__(self, job: SegmentJob, error: str) -> None:
        super().__init__(error, segment_id=job.segment_id)
        self.job = job
        self.error = error


class ClusterWorker:
    def __init__(
        self,
        config: ClusterConfig,
        pipeline: AnalysisPipeline,
        analyzer: VideoAnalyzer,
        files: SegmentFiles,
        scratch: Path,
        name: str,
        counter: PeopleCounter | None = None,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.analyzer = analyzer
        self.counter = counter
        self.files = files
        self.scratch = scratch
        self.name = name
        self.stats = WorkerStats()

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Take jobs until ``stop`` is set; the job in hand is finished first. Waits for
        NATS however long it is away (stopping meanwhile ends the wait)."""
        try:
            client = await connect(self.config, self.name, stop)
        except PeerUnavailable:
            return self.stats  # stopped before NATS was reached
        try:
            subscription = await client.jetstream().pull_subscribe(
                JOB_SUBJECT, durable=WORKERS, stream=JOBS, config=worker_consumer(self.config)
            )
            while not stop.is_set():
                try:
                    messages = await subscription.fetch(1, timeout=FETCH_WAIT_S)
                except NatsTimeout:
                    continue
                except (NatsError, OSError) as exc:  # NATS away: the client reconnects
                    logger.warning("taking a job: %s", exc)
                    await asyncio.sleep(1.0)
                    continue
                for message in messages:
                    await self.handle(client, message)
        finally:
            await client.close()
        return self.stats

    async def handle(self, client: Client, message: Msg) -> None:
        try:
            await self._handle(client, message)
        except (NatsError, OSError) as exc:  # the job comes again; its stored result stays
            logger.warning("a job's acknowledgement was lost (%s); it will come again", exc)

    async def _handle(self, client: Client, message: Msg) -> None:
        delivery = message.metadata.num_delivered
        if delivery > 1:
            self.stats.redelivered += 1
        try:
            segment_id = int(json.loads(message.data)["segment_id"])
        except (ValueError, KeyError, TypeError):
            logger.warning("a job that is not a segment job: %r", message.data[:200])
            await message.term()
            return
        logger.info("segment %d: analysing (delivery %d)", segment_id, delivery)
        beat = asyncio.create_task(self._in_progress(message))
        began = time.monotonic()
        try:
            alerts = await asyncio.to_thread(self._work, segment_id)
        except AnalysisFailed as failure:
            await self._failed(client, message, failure, delivery)
            return
        except (PeerUnavailable, SQLAlchemyError) as exc:
            await self._defer(client, message, segment_id, delivery, f"{exc}")
            return
        finally:
            beat.cancel()
        if alerts is None:
            self.stats.skipped += 1
        else:
            self.stats.done += 1
            await self._announce(client, segment_id, alerts)
        await message.ack()
        logger.info(
            "segment %d %s in %.1f s (delivery %d)",
            segment_id,
            "skipped" if alerts is None else "analysed",
            time.monotonic() - began,
            delivery,
        )

    def _work(self, segment_id: int) -> list[int] | None:
        """Analyse and store; the ids of the alerts raised, None if there was nothing to do."""
        taken = self.pipeline.waiting_job(segment_id)
        if taken is None:
            return None
        segment, job = taken
        try:
            with self.files.opened(segment, self.scratch) as path:
                job = replace(job, path=path)
                try:
                    outcome = analyse_job(self.analyzer, self.counter, job)
                except Exception as exc:  # any failure of one segment is counted on it
                    raise AnalysisFailed(job, f"{type(exc).__name__}: {exc}") from exc
        except NotFound:  # retention deleted it on the node meanwhile
            return None
        return self.pipeline.store_result(job, outcome)

    async def _failed(
        self, client: Client, message: Msg, failure: AnalysisFailed, delivery: int
    ) -> None:
        self.stats.failed += 1
        logger.error("segment %d: %s", failure.job.segment_id, failure.error)
        try:
            again = await asyncio.to_thread(self.pipeline.store_failure, failure.job, failure.error)
        except SQLAlchemyError as exc:
            await self._defer(client, message, failure.job.segment_id, delivery, f"{exc}")
            return
        if again and delivery < self.config.max_deliver:
            await message.nak(delay=RETRY_DELAY_S)
        else:
            await self._dead(client, message, failure.job.segment_id, delivery, failure.error)

    async def _defer(
        self, client: Client, message: Msg, segment_id: int, delivery: int, why: str
    ) -> None:
        logger.warning("segment %d handed back (delivery %d): %s", segment_id, delivery, why)
        self.stats.deferred += 1
        if delivery >= self.config.max_deliver:
            await self._dead(client, message, segment_id, delivery, why)
        else:
            await message.nak(delay=unreachable_delay(delivery))

    async def _dead(
        self, client: Client, message: Msg, segment_id: int, delivery: int, why: str
    ) -> None:
        """The job's last try: to the dead-letter subject, then off the work queue.

        A segment whose analysis failed is given up on (stored so); one that could not be
        reached stays in the stored backlog, and its node publishes it again when it starts.
        """
        letter = {
            "segment_id": segment_id,
            "deliveries": delivery,
            "error": why[:500],
            "worker": self.name,
            "at": datetime.now(UTC).isoformat(),
        }
        await client.jetstream().publish(DEAD_SUBJECT, json.dumps(letter).encode())
        await message.ack()
        self.stats.dead += 1
        logger.error("segment %d sent to dead letters after %d deliveries", segment_id, delivery)

    async def _announce(self, client: Client, segment_id: int, alerts: list[int]) -> None:
        """Alert events for integrations: ids only; what an alert holds is the API's to show
        to those allowed to see it."""
        for alert_id in alerts:
            event: dict[str, Any] = {"alert_id": alert_id, "segment_id": segment_id}
            try:
                await client.jetstream().publish(ALERT_SUBJECT, json.dumps(event).encode())
            except (NatsError, OSError) as exc:  # the alert is stored; the event is extra
                logger.warning("alert %d event not published: %s", alert_id, exc)
            self.stats.alerts += 1

    async def _in_progress(self, message: Msg) -> None:
        while True:
            await asyncio.sleep(self.config.ack_wait_s / 3)
            try:
                await message.in_progress()
            except (NatsError, OSError) as exc:
                logger.warning("in-progress signal: %s", exc)
