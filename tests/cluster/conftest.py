"""A cluster on this machine: a private PostgreSQL, a NATS server, and Vigil's ingest node,
workers and API node as real ``vigil`` processes, each with its own data directory."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx2 as httpx
import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import create_engine, func, select, text

from tests.cluster.servers import NatsServer, PrivatePostgres
from tests.conftest import PASSWORD, Env
from tests.recorded import wait_for
from tests.streams import free_port
from vigil.app import Services, open_services
from vigil.auth.roles import LOCAL, RequestContext
from vigil.cameras.registry import CameraSpec
from vigil.cluster.state import QueueState, queue_state
from vigil.cluster.streams import DEAD
from vigil.config import parse_config, render_config
from vigil.datadir import initialise
from vigil.recording.media import SegmentName
from vigil.store.models import Camera, SegmentRow, SightingRow

SECRET = "cluster-secret-for-tests-only-0123456789"


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().initialise()
    yield server
    server.destroy()


class Cluster:
    """One test's cluster: its own database and NATS store; processes stopped at the end."""

    def __init__(self, root: Path, postgres: PrivatePostgres, **settings: Any) -> None:
        self.root = root
        self.postgres = postgres
        database = f"vigil_{uuid.uuid4().hex[:12]}"
        admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        self.database_url = postgres.url(database)
        self.nats = NatsServer(root / "nats-store").start()
        self.settings = settings
        self.data_dir = root / "main"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._services: Services | None = None
        try:
            self._write_config(self.data_dir, internal_port=free_port())
            initialise(self.data_dir, admin_password=PASSWORD, request_id="t")
        except BaseException:
            self.nats.stop()
            raise

    def _write_config(self, data_dir: Path, **cluster: Any) -> None:
        raw: dict[str, Any] = {
            "database": {"url": self.database_url},
            "cluster": {
                "nats_url": self.nats.url,
                "secret": SECRET,
                "ack_wait_s": 6.0,
                "max_deliver": 5,
                **cluster,
            },
            "recording": {"segment_s": 2.0, "min_free_bytes": 0, "backoff_max_s": 1.0},
        }
        for section, values in self.settings.items():
            raw.setdefault(section, {}).update(values)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (data_dir / "vigil.toml").write_text(render_config(parse_config(raw)))

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = open_services(self.data_dir)
        return self._services

    @property
    def env(self) -> Env:
        """The cluster's data seen as the other tests see theirs (users, tokens, entries)."""
        return Env(self.data_dir, self.services, PASSWORD)

    def node_dir(self, name: str) -> Path:
        """A data directory for another process: the shared config and keys, nothing else."""
        target = self.root / name
        if not target.exists():
            shutil.copytree(
                self.data_dir,
                target,
                ignore=shutil.ignore_patterns("media", "imports", "tmp", "*.log"),
            )
            self._write_config(target, internal_port=free_port())
        return target

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "vigil", "--data-dir", str(self.node_dir(name)), *args],
                stdout=log,
                stderr=log,
                env=dict(os.environ),
            )
        self.processes[name] = process
        return process

    def ingest(self, node: str) -> subprocess.Popen[bytes]:
        return self.start(node, "record", "--node", node)

    def worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--threads", "1")

    def api_node(self, name: str = "api") -> str:
        """An API node (no recording); its base URL once it answers."""
        port = free_port()
        self.start(name, "up", "--no-record", "--port", str(port))
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _answers(f"{base}/api/v1/health"), timeout_s=60)
        return base

    def kill(self, name: str) -> None:
        """kill -9: no clean-up runs."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes.pop(name).wait(10)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        process.wait(60)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def add_camera(self, name: str, url: str, node: str) -> None:
        ctx = RequestContext(LOCAL, uuid.uuid4().hex, "test")
        self.services.cameras.add(ctx, CameraSpec(name, url, group="city"))
        self.services.cameras.assign(ctx, name, node)

    def camera_id(self, name: str) -> int:
        with self.services.db.read() as session:
            return int(session.scalar(select(Camera.id).where(Camera.name == name)))

    def place_segment(
        self, node: str, camera: str, data: bytes, start: float, seconds: float
    ) -> str:
        """A finished segment file on the node's disk before it starts: its recovery indexes
        it as the node's own and publishes its job."""
        name = SegmentName(self.camera_id(camera), int(start * 1000), int((start + seconds) * 1000))
        path = self.node_dir(node) / "media" / name.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return name.relative

    def segment(self, relative: str) -> SegmentRow | None:
        with self.services.db.read() as session:
            return session.scalar(select(SegmentRow).where(SegmentRow.path == relative))

    def stores_per_segment(self) -> dict[int, int]:
        """How many times each segment's sightings were stored: each store writes all of a
        segment's sightings in one transaction with one time, so more than one time (or a
        segment's sightings twice over) is a duplicate."""
        with self.services.db.read() as session:
            rows = session.execute(
                select(SightingRow.segment_id, func.count(func.distinct(SightingRow.created_at)))
                .where(SightingRow.segment_id.is_not(None))
                .group_by(SightingRow.segment_id)
            )
            return {int(segment_id): int(n) for segment_id, n in rows}

    def queue(self) -> QueueState:
        return queue_state(self.services.config.cluster)

    def dead_letters(self) -> list[dict[str, Any]]:
        async def read() -> list[dict[str, Any]]:
            client = await nats.connect(self.nats.url)
            try:
                js = client.jetstream()
                try:
                    info = await js.stream_info(DEAD)
                except NotFoundError:  # no process has made the streams yet
                    return []
                letters = []
                for seq in range(info.state.first_seq, info.state.last_seq + 1):
                    if info.state.messages == 0:
                        break
                    message = await js.get_msg(DEAD, seq)
                    letters.append(json.loads(message.data or b"{}"))
                return letters
            finally:
                await client.close()

        return asyncio.run(read())

    def counts(self) -> dict[str, int]:
        """Segments recorded, analysed and waiting, and sightings stored."""
        with self.services.db.read() as session:
            segments = session.scalar(select(func.count(SegmentRow.id))) or 0
            waiting = (
                session.scalar(
                    select(func.count(SegmentRow.id)).where(SegmentRow.analysed_at.is_(None))
                )
                or 0
            )
            sightings = session.scalar(select(func.count(SightingRow.id))) or 0
        return {"segments": segments, "analysed": segments - waiting, "waiting": waiting,
                "sightings": sightings}  # fmt: skip

    def close(self) -> None:
        for name in list(self.processes):
            try:
                self.stop(name)
            except subprocess.TimeoutExpired:
                self.kill(name)
        if self._services is not None:
            self._services.close()
        self.nats.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == HTTPStatus.OK
    except httpx.HTTPError:
        return False


@pytest.fixture
def cluster(tmp_path: Path, private_postgres: PrivatePostgres) -> Iterator[Cluster]:
    made = Cluster(tmp_path, private_postgres)
    yield made
    made.close()
