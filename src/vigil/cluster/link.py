"""Connections to NATS: ``connect`` waits for the server however long it is down, and
``NatsLink`` gives threads (the recorder, the CLI) a connection run by a loop of its own."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

from vigil.cluster.streams import ensure_streams
from vigil.config import ClusterConfig
from vigil.errors import PeerUnavailable
from vigil.logthrottle import Throttle

logger = logging.getLogger(__name__)

T = TypeVar("T")
CONNECT_TIMEOUT_S = 2
RETRY_S = 1.0


async def connect(config: ClusterConfig, name: str, stop: asyncio.Event | None = None) -> Client:
    """A connection with the streams in place; tries again every second until it has one.
    Once ``stop`` is set, a failed try raises PeerUnavailable instead. Once connected,
    the client reconnects by itself, forever."""
    throttle = Throttle(logger)

    async def error(exc: Exception) -> None:
        throttle.log(logging.WARNING, "error", "NATS: %s", exc or type(exc).__name__)

    async def lost() -> None:
        logger.warning("lost the connection to NATS; reconnecting")

    async def back() -> None:
        logger.info("connected to NATS again")

    while True:
        try:
            client = await nats.connect(
                servers=config.nats_url.split(","),
                name=name,
                connect_timeout=CONNECT_TIMEOUT_S,
                reconnect_time_wait=RETRY_S,
                max_reconnect_attempts=-1,
                error_cb=error,
                disconnected_cb=lost,
                reconnected_cb=back,
            )
            await ensure_streams(client.jetstream(), config)
        except (OSError, TimeoutError, NatsError) as exc:
            throttle.log(logging.WARNING, "connect", "NATS at %s: %s", config.nats_url, exc)
        else:
            logger.info("connected to NATS at %s as %s", config.nats_url, name)
            return client
        if stop is not None and stop.is_set():
            raise PeerUnavailable(f"NATS at {config.nats_url} cannot be reached")
        await asyncio.sleep(RETRY_S)


async def connect_once(config: ClusterConfig, name: str) -> Client:
    """One attempt, for a command that reports and ends."""
    stop = asyncio.Event()
    stop.set()
    return await connect(config, name, stop)


class NatsLink:
    """A NATS connection for threads: its own event loop in a thread; ``call`` runs a
    coroutine there and waits for it (up to a timeout)."""

    def __init__(self, config: ClusterConfig, name: str) -> None:
        self.config = config
        self.name = name
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="nats", daemon=True)
        self._client: Client | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._connect(), self._loop)

    async def _connect(self) -> None:
        self._client = await connect(self.config, self.name)

    def call(self, work: Callable[[Client], Awaitable[T]], timeout_s: float) -> T:
        """Run ``work`` with the connection; PeerUnavailable while there is none or it
        does not finish in time."""
        client = self._client
        if client is None or not client.is_connected:
            raise PeerUnavailable(f"not connected to NATS at {self.config.nats_url}")
        future = asyncio.run_coroutine_threadsafe(_within(work(client), timeout_s), self._loop)
        try:
            return future.result(timeout_s + 1)
        except (TimeoutError, NatsError, OSError) as exc:
            future.cancel()
            raise PeerUnavailable(f"NATS at {self.config.nats_url}: {exc or 'timed out'}") from exc

    def close(self) -> None:
        if self._client is not None:
            done = asyncio.run_coroutine_threadsafe(self._client.close(), self._loop)
            try:
                done.result(5)
            except (TimeoutError, NatsError, OSError) as exc:
                logger.warning("closing the NATS connection: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()


async def _within(work: Awaitable[T], timeout_s: float) -> T:
    return await asyncio.wait_for(work, timeout_s)
