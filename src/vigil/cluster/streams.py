"""The JetStream streams and the workers' consumer: names and settings in one place."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError

from vigil.config import ClusterConfig

JOBS = "VIGIL_JOBS"
JOB_SUBJECT = "vigil.jobs.segment"
DEAD = "VIGIL_DEAD"
DEAD_SUBJECT = "vigil.dead.segment"
EVENTS = "VIGIL_EVENTS"
ALERT_SUBJECT = "vigil.events.alert"
WORKERS = "workers"  # the durable consumer every worker pulls from
DAY_S = 86_400.0
# A job published twice within this window (a retry after a lost acknowledgement) is
# stored once.
DUPLICATE_WINDOW_S = 600.0


def stream_configs(config: ClusterConfig) -> list[StreamConfig]:
    replicas = config.stream_replicas
    return [
        # A work queue: a job is gone once a worker acknowledges it.
        StreamConfig(
            name=JOBS,
            subjects=[JOB_SUBJECT],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=DUPLICATE_WINDOW_S,
        ),
        # Jobs given up on, kept for people to look at (vigil status counts them).
        StreamConfig(
            name=DEAD,
            subjects=[DEAD_SUBJECT],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            num_replicas=replicas,
            max_age=30 * DAY_S,
        ),
        # Alert events for integrations; the oldest go first past a day.
        StreamConfig(
            name=EVENTS,
            subjects=["vigil.events.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            num_replicas=replicas,
            max_age=DAY_S,
            discard=DiscardPolicy.OLD,
        ),
    ]


def worker_consumer(config: ClusterConfig) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=WORKERS,
        filter_subject=JOB_SUBJECT,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=config.ack_wait_s,
        max_deliver=config.max_deliver,
        max_ack_pending=1000,
    )


async def ensure_streams(js: JetStreamContext, config: ClusterConfig) -> None:
    """Create the streams, or bring an existing one's settings up to date."""
    for stream in stream_configs(config):
        try:
            await js.add_stream(stream)
        except BadRequestError:  # it exists with other settings
            await js.update_stream(stream)
