"""The ingest node's side of the work queue: every closed segment becomes a JetStream job.

Publishing never holds up recording: segments wait in a list that a sender thread empties
in order. While NATS is down they stay there (and, should the node stop, in the stored
backlog, which the node publishes again when it starts); once NATS is back they all go.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from functools import partial

from nats.aio.client import Client

from vigil.analytics.jobs import SegmentJob
from vigil.cluster.link import NatsLink
from vigil.cluster.streams import JOB_SUBJECT
from vigil.errors import PeerUnavailable
from vigil.logthrottle import Throttle

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 2.0
RETRY_S = 1.0


def job_message(job: SegmentJob, node: str) -> bytes:
    data = {"segment_id": job.segment_id, "camera_id": job.camera_id, "node": node}
    return json.dumps(data).encode()


def message_id(segment_id: int, run: str) -> str:
    """JetStream stores a job once however often this run of the node publishes it (a
    publish retried after a lost acknowledgement). A later run publishes its backlog anew:
    a job lost meanwhile (dead-lettered while the node was away) must not be taken for a
    duplicate; one that was not lost is found analysed, or waits on the segment's lock."""
    return f"segment-{segment_id}-{run}"


class JetStreamJobs:
    """A ``JobQueue`` whose workers are other processes, anywhere: jobs go to JetStream."""

    remote = True

    def __init__(self, link: NatsLink, node: str) -> None:
        self.link = link
        self.node = node
        self.run = uuid.uuid4().hex[:12]
        self.published = 0
        self._unsent: OrderedDict[int, SegmentJob] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._throttle = Throttle(logger)
        self._thread = threading.Thread(target=self._send, name="jobs", daemon=True)
        self._thread.start()

    def submit(self, job: SegmentJob) -> None:
        with self._lock:
            self._unsent[job.segment_id] = job
        self._wake.set()

    def backlog(self) -> int:
        """Segments not yet handed to JetStream."""
        with self._lock:
            return len(self._unsent)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(PUBLISH_TIMEOUT_S + 5)

    def _send(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(RETRY_S)
            self._wake.clear()
            while not self._stop.is_set() and (job := self._oldest()) is not None:
                try:
                    self.link.call(partial(self._publish, job=job), PUBLISH_TIMEOUT_S)
                except PeerUnavailable as exc:
                    self._throttle.log(
                        logging.WARNING,
                        "unsent",
                        "%d segments wait for NATS: %s",
                        self.backlog(),
                        exc,
                    )
                    break
                with self._lock:
                    self._unsent.pop(job.segment_id, None)
                self.published += 1

    def _oldest(self) -> SegmentJob | None:
        with self._lock:
            return next(iter(self._unsent.values()), None)

    async def _publish(self, client: Client, job: SegmentJob) -> None:
        await client.jetstream().publish(
            JOB_SUBJECT,
            job_message(job, self.node),
            timeout=PUBLISH_TIMEOUT_S,
            headers={"Nats-Msg-Id": message_id(job.segment_id, self.run)},
        )
