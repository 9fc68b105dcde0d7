"""The work queue as JetStream holds it, for ``vigil status`` and the metrics."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Any

from nats.errors import Error as NatsError

from vigil.cluster.link import connect_once
from vigil.cluster.streams import DEAD, JOBS, WORKERS
from vigil.config import ClusterConfig
from vigil.errors import PeerUnavailable

STATE_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class QueueState:
    jobs_waiting: int  # in the work queue, not yet acknowledged (in progress included)
    jobs_in_progress: int  # delivered to a worker, not yet acknowledged
    jobs_redelivered: int  # delivered again and still not acknowledged
    dead_letters: int  # jobs given up on (the dead-letter subject, kept 30 days)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _read(config: ClusterConfig) -> QueueState:
    client = await connect_once(config, "vigil-status")
    try:
        manager = client.jetstream()
        jobs = await manager.stream_info(JOBS)
        dead = await manager.stream_info(DEAD)
        try:
            consumer = await manager.consumer_info(JOBS, WORKERS)
            in_progress, redelivered = consumer.num_ack_pending, consumer.num_redelivered
        except NatsError:  # no worker has started yet
            in_progress = redelivered = 0
        return QueueState(
            jobs.state.messages, in_progress or 0, redelivered or 0, dead.state.messages
        )
    finally:
        await client.close()


def queue_state(config: ClusterConfig) -> QueueState:
    """Read from NATS now; PeerUnavailable when it cannot be reached in a few seconds."""
    try:
        return asyncio.run(asyncio.wait_for(_read(config), STATE_TIMEOUT_S))
    except (TimeoutError, NatsError, OSError) as exc:
        raise PeerUnavailable(f"NATS at {config.nats_url}: {exc or 'timed out'}") from exc
