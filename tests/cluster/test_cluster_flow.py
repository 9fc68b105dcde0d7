"""The cluster end to end, as separate processes: two ingest nodes, a worker, an API node."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx2 as httpx
from sqlalchemy import func, select

from tests.cluster.conftest import Cluster
from tests.recorded import wait_for
from tests.sightings import approved_entry
from tests.streams import Simulator, people_folder
from vigil.audit.log import EntryFilter
from vigil.auth.roles import LOCAL, RequestContext, Role
from vigil.store.models import AlertRow, SegmentRow


def _segments_by(cluster: Cluster, node: str) -> list[SegmentRow]:
    with cluster.services.db.read() as session:
        return list(session.scalars(select(SegmentRow).where(SegmentRow.node == node)))


def _first_alert_event(url: str, headers: dict[str, str], found: list[dict[str, object]]) -> None:
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(120, connect=5)) as s:
        event = None
        for line in s.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "alert":
                found.append(json.loads(line.removeprefix("data: ")))
                return


def test_a_cluster_records_analyses_alerts_and_plays_back_across_nodes(
    cluster: Cluster, tmp_path: Path, portrait_path: Path
) -> None:
    approved_entry(cluster.env, portrait_path)
    cluster.env.add_user("olga", Role.OPERATOR, groups=("city",))
    headers = {"Authorization": f"Bearer {cluster.env.own_token('olga')}"}
    simulator = Simulator(people_folder(tmp_path, portrait_path)).start()
    try:
        cluster.add_camera("cam1", simulator.url(), node="a")
        cluster.ingest("a")
        cluster.ingest("b")
        cluster.worker()
        base = cluster.api_node()
        events: list[dict[str, object]] = []
        listener = threading.Thread(
            target=_first_alert_event,
            args=(f"{base}/api/v1/alerts/events", headers, events),
            daemon=True,
        )
        listener.start()

        # An alert raised by the worker reaches the API node's event stream.
        listener.join(120)
        assert events, "no alert reached the API node's event stream"
        with cluster.services.db.read() as session:
            assert session.scalar(select(func.count(AlertRow.id))) >= 1

        # The camera moves to node b, which records it within 10 s.
        wait_for(lambda: len(_segments_by(cluster, "a")) >= 2, timeout_s=60)
        moved = datetime.now(UTC)
        cluster.services.cameras.assign(RequestContext(LOCAL, "t"), "cam1", "b")
        wait_for(lambda: len(_segments_by(cluster, "b")) >= 1, timeout_s=30)
        first_on_b = min(s.start for s in _segments_by(cluster, "b"))
        started_within = (first_on_b - moved).total_seconds()
        assert started_within <= 10
        last_on_a = max(s.end for s in _segments_by(cluster, "a"))
        assert last_on_a <= first_on_b + timedelta(seconds=1)  # a stopped: one node at a time

        # Live view through the API node, relayed from node b, audited there once.
        head, start = _watch(f"{base}/api/v1/cameras/cam1/live.mp4", headers, 200_000)
        assert head[4:8] == b"ftyp"  # an MP4 from its init segment on
        assert abs(start - time.time()) < 30
        wait_for(lambda: len(_audited(cluster, "camera.live.end")) == 1)
        assert len(_audited(cluster, "camera.live")) == 1
    finally:
        simulator.stop()

    # Footage of both nodes, exported through the API node (which records nothing), once
    # on the audit record.
    span = {
        "start": min(s.start for s in _segments_by(cluster, "a")).isoformat(),
        "end": max(s.end for s in _segments_by(cluster, "b")).isoformat(),
    }
    before = _exports(cluster)
    clip = httpx.get(f"{base}/api/v1/cameras/cam1/recording.mp4", params=span, headers=headers,
                     timeout=60)  # fmt: skip
    assert clip.status_code == httpx.codes.OK, clip.text
    exported = tmp_path / "clip.mp4"
    exported.write_bytes(clip.content)
    with av.open(str(exported)) as container:
        seconds = float(container.duration or 0) / av.time_base
    both = _segments_by(cluster, "a") + _segments_by(cluster, "b")
    recorded = sum((s.end - s.start).total_seconds() for s in both)
    assert seconds >= 0.8 * recorded
    assert _exports(cluster) == before + 1
    print(f"moved camera recorded on node b after {started_within:.1f} s; "
          f"clip of {seconds:.1f} s from two nodes")  # fmt: skip


def _watch(url: str, headers: dict[str, str], wanted: int) -> tuple[bytes, float]:
    """The first ``wanted`` bytes of a live view, and when it says it started."""
    received = b""
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == httpx.codes.OK
        start = float(response.headers["X-Vigil-Live-Start"])
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= wanted:
                break
    return received, start


def _audited(cluster: Cluster, action: str) -> list[object]:
    with cluster.services.db.read() as session:
        return list(cluster.services.audit.entries(session, EntryFilter(action=action)))


def _exports(cluster: Cluster) -> int:
    return len(_audited(cluster, "recording.export"))
