"""An ingest node's internal endpoint: its segments, for the cluster's workers and API nodes.

It answers nodes, not people: the caller shows the cluster's shared secret, and people's
access to footage is checked (and audited) by the API node that asks on their behalf.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import FileResponse, StreamingResponse

from vigil.cluster.nodes import LIVE_PATH, LIVE_START, SEGMENT_PATH, authorised
from vigil.recording.index import SegmentIndex
from vigil.recording.live import LiveHub, hub_feed
from vigil.recording.media import MediaStore

logger = logging.getLogger(__name__)


def internal_api(index: SegmentIndex, store: MediaStore, live: LiveHub, secret: str) -> FastAPI:
    api = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    def check(authorization: str | None) -> None:
        if not authorised(authorization, secret):
            raise HTTPException(401, "the cluster's secret is needed")

    @api.get(SEGMENT_PATH.replace("{id}", "{segment_id}"))
    def segment(
        segment_id: int, authorization: Annotated[str | None, Header()] = None
    ) -> FileResponse:
        check(authorization)
        found = index.get(segment_id)
        if found is None or found.node != index.node:
            raise HTTPException(404, f"segment {segment_id} is not on node {index.node}")
        path = store.path(found.path)
        if not path.is_file():
            raise HTTPException(404, f"segment {segment_id}'s file is gone (retention)")
        return FileResponse(path, media_type="video/mp4")

    @api.get(LIVE_PATH.replace("{id}", "{camera_id}"))
    def live_view(
        camera_id: int, authorization: Annotated[str | None, Header()] = None
    ) -> StreamingResponse:
        """A camera this node records, live, for an API node to relay to a viewer (who is
        checked and audited there)."""
        check(authorization)
        feed = hub_feed(live, camera_id)
        if feed is None:
            raise HTTPException(503, f"camera {camera_id} is not streaming on {index.node}")
        return StreamingResponse(
            feed.chunks(), media_type="video/mp4", headers={LIVE_START: f"{feed.start:.3f}"}
        )

    return api


class InternalServer:
    """The internal endpoint served from a thread beside the recorder."""

    def __init__(self, api: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(api, host=host, port=port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="internal", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
