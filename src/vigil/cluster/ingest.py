"""An ingest node in a cluster: its NATS link, its job publishing and its internal endpoint,
started and stopped together beside the recorder."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from vigil.cluster.internal import InternalServer, internal_api
from vigil.cluster.jobs import JetStreamJobs
from vigil.cluster.link import NatsLink
from vigil.cluster.nodes import NodeDirectory
from vigil.config import ClusterConfig
from vigil.errors import ConfigError
from vigil.logthrottle import Throttle
from vigil.recording.index import SegmentIndex
from vigil.recording.live import LiveHub
from vigil.recording.media import MediaStore

logger = logging.getLogger(__name__)

ANNOUNCE_S = 10.0


class IngestNode:
    def __init__(
        self,
        config: ClusterConfig,
        index: SegmentIndex,
        store: MediaStore,
        live: LiveHub,
        nodes: NodeDirectory,
    ) -> None:
        if index.node is None:
            raise ConfigError("an ingest node needs a name: vigil record --node NAME")
        self.name = index.node
        self.url = config.advertised_url()
        self.config = config
        self.nodes = nodes
        self.link = NatsLink(config, f"ingest-{self.name}")
        self.jobs = JetStreamJobs(self.link, self.name)
        api = internal_api(index, store, live, config.secret.get_secret_value())
        self.server = InternalServer(api, config.internal_host, config.internal_port)
        self._stop = threading.Event()
        self._throttle = Throttle(logger)
        self._announcer = threading.Thread(target=self._announce, name="announce", daemon=True)

    def start(self) -> None:
        self.server.start()
        self.link.start()
        self._announcer.start()

    def stop(self) -> None:
        self._stop.set()
        self.jobs.close()
        self.link.close()
        self.server.stop()
        self._announcer.join(5)

    def _announce(self) -> None:
        """Where workers read this node's segments, now and every 10 s (PostgreSQL may be
        restarting: the next pass says it again)."""
        starting = True
        while True:
            try:
                self.nodes.announce(self.name, self.url, starting=starting)
                starting = False
            except SQLAlchemyError as exc:
                self._throttle.log(logging.WARNING, "announce", "announcing the node: %s", exc)
            if self._stop.wait(ANNOUNCE_S):
                return
