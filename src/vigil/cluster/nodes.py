"""Ingest nodes: each says where its internal endpoint is; workers and API nodes look it up
there to read the node's segments."""

from __future__ import annotations

import hashlib
import hmac
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from vigil.errors import NotFound, PeerUnavailable
from vigil.recording.index import Segment
from vigil.store.db import Database
from vigil.store.models import ClusterNode

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 30.0
SEGMENT_PATH = "/internal/v1/segments/{id}"


def bearer(secret: str) -> str:
    return f"Bearer {secret}"


def authorised(header: str | None, secret: str) -> bool:
    """Whether a request's Authorization header carries the cluster's secret."""
    return header is not None and hmac.compare_digest(header.encode(), bearer(secret).encode())


@dataclass(frozen=True, slots=True)
class NodeDirectory:
    db: Database

    def announce(self, name: str, url: str, *, starting: bool = False) -> None:
        """The node is up and reachable at ``url`` (at start and then on every health pass)."""
        now = datetime.now(UTC)
        with self.db.write() as session:
            row = session.get(ClusterNode, name)
            if row is None:
                session.add(ClusterNode(name=name, url=url, started_at=now, seen_at=now))
                return
            row.url = url
            row.seen_at = now
            if starting:
                row.started_at = now

    def url_of(self, name: str) -> str:
        with self.db.read() as session:
            row = session.get(ClusterNode, name)
        if row is None:
            raise NotFound(f"no ingest node {name!r} has announced itself", node=name)
        return row.url


@dataclass(frozen=True, slots=True)
class SegmentFetcher:
    """Reads a segment's bytes from the node that recorded it, and checks them."""

    nodes: NodeDirectory
    secret: str

    def fetch(self, segment: Segment) -> bytes:
        if segment.node is None:
            raise NotFound(f"segment {segment.id} was recorded by no cluster node")
        url = self.nodes.url_of(segment.node) + SEGMENT_PATH.format(id=segment.id)
        # The URL is one a node announced: http(s), checked when the config was read.
        request = urllib.request.Request(url, headers={"Authorization": bearer(self.secret)})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_S) as response:  # noqa: S310
                data: bytes = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == HTTPStatus.NOT_FOUND:
                raise NotFound(f"node {segment.node} no longer has segment {segment.id}") from exc
            raise PeerUnavailable(f"node {segment.node} answered {exc.code} for {url}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise PeerUnavailable(f"node {segment.node} at {url}: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != segment.sha256:
            raise PeerUnavailable(f"segment {segment.id} from {segment.node} fails its checksum")
        return data
