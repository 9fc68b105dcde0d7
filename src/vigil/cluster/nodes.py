"""Ingest nodes: each says where its internal endpoint is; workers and API nodes look it up
there to read the node's segments."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.client
import logging
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus

from vigil.errors import NotFound, NotReady, PeerUnavailable
from vigil.recording.records import Segment
from vigil.store.db import Database
from vigil.store.models import ClusterNode

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 30.0
LIVE_TIMEOUT_S = 10.0  # a live view with no fragment for this long has ended
SEGMENT_PATH = "/internal/v1/segments/{id}"
LIVE_PATH = "/internal/v1/cameras/{id}/live.mp4"
LIVE_START = "X-Vigil-Live-Start"
CHUNK = 64 * 1024


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


def _open(url: str, secret: str, timeout_s: float, what: str) -> http.client.HTTPResponse:
    """A GET to another node's internal endpoint, with the cluster's secret."""
    # The URL is one a node announced: http(s), checked when the config was read.
    request = urllib.request.Request(url, headers={"Authorization": bearer(secret)})  # noqa: S310
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=timeout_s)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == HTTPStatus.NOT_FOUND:
            raise NotFound(f"{what} is not there") from exc
        if exc.code == HTTPStatus.SERVICE_UNAVAILABLE:
            raise NotReady(f"{what}: {exc.read().decode(errors='replace')[:200]}") from exc
        raise PeerUnavailable(f"{what}: the node answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise PeerUnavailable(f"{what} at {url}: {exc}") from exc
    return response


@dataclass
class RelayFeed:
    """A live view relayed from the node that records the camera, as it sends it."""

    response: http.client.HTTPResponse
    start: float

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            try:
                chunk = await asyncio.to_thread(self.response.read1, CHUNK)
            except (OSError, http.client.HTTPException) as exc:
                logger.info("live relay ended: %s", exc)
                return
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        self.response.close()


@dataclass(frozen=True, slots=True)
class LiveRelay:
    nodes: NodeDirectory
    secret: str

    def open(self, node: str, camera_id: int) -> RelayFeed:
        url = self.nodes.url_of(node) + LIVE_PATH.format(id=camera_id)
        response = _open(url, self.secret, LIVE_TIMEOUT_S, f"live view of camera {camera_id}")
        try:
            start = float(response.headers.get(LIVE_START, "0"))
        except ValueError:
            start = 0.0
        return RelayFeed(response, start)


@dataclass(frozen=True, slots=True)
class SegmentFetcher:
    """Reads a segment's bytes from the node that recorded it, and checks them."""

    nodes: NodeDirectory
    secret: str

    def fetch(self, segment: Segment) -> bytes:
        if segment.node is None:
            raise NotFound(f"segment {segment.id} was recorded by no cluster node")
        url = self.nodes.url_of(segment.node) + SEGMENT_PATH.format(id=segment.id)
        what = f"segment {segment.id} on node {segment.node}"
        with _open(url, self.secret, FETCH_TIMEOUT_S, what) as response:
            try:
                data: bytes = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise PeerUnavailable(f"{what}: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != segment.sha256:
            raise PeerUnavailable(f"segment {segment.id} from {segment.node} fails its checksum")
        return data
