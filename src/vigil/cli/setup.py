"""Set-up and serving: ``vigil init``, ``vigil up`` and ``vigil record``."""

from __future__ import annotations

import gc
import logging
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from vigil.analytics.jobs import JobQueue
from vigil.app import Services
from vigil.cli.output import JSON, console, emit
from vigil.cli.state import CliState, read_secret_file
from vigil.datadir import initialise, make_private


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("up")(up)
    app.command("record")(record_only)


def init(
    ctx: typer.Context,
    admin_password_file: Path | None = typer.Option(
        None, "--admin-password-file", help="Password for the admin account (else generated)."
    ),
    as_json: bool = JSON,
) -> None:
    """Create the data directory, config, database, audit signing key and admin account.

    Running it again creates only what is missing and never overwrites anything.
    """
    state: CliState = ctx.obj
    password = None if admin_password_file is None else read_secret_file(admin_password_file)
    result = initialise(state.data_dir, admin_password=password, request_id=uuid.uuid4().hex)

    def human() -> None:
        made = [
            name
            for name, created in (
                ("config", result.created_config),
                ("audit signing key", result.created_key),
                ("admin account", result.created_admin),
            )
            if created
        ]
        console.print(f"Vigil data directory: {result.data_dir.resolve()}")
        console.print("created: " + (", ".join(made) if made else "nothing (already set up)"))
        if result.generated_password:
            console.print(f"admin password (shown once): {result.generated_password}")

    emit(result.to_dict(), as_json, human)


def up(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Address to listen on."),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port to listen on."),
    record: bool = typer.Option(True, "--record/--no-record", help="Also record the cameras."),
    as_json: bool = JSON,
) -> None:
    """Serve the API and live view, and record every enabled camera, until stopped."""
    from vigil.app import open_services  # noqa: PLC0415 - keeps other commands light

    state: CliState = ctx.obj
    services = open_services(state.data_dir, migrate_schema=True)
    make_private(state.data_dir, services.config.media_root(state.data_dir))
    url = f"http://{host or services.config.api.host}:{port or services.config.api.port}"
    emit(
        {
            "web": url,
            "api": f"{url}/api/v1",
            "openapi": f"{url}/api/v1/openapi.json",
            "docs": f"{url}/api/v1/docs",
        },
        as_json,
        lambda: console.print(f"Vigil on {url} (API docs at {url}/api/v1/docs)"),
    )
    serve(services, host=host, port=port, record=record)


SHUTDOWN_GRACE_S = 3


def serve(services: Services, *, host: str | None, port: int | None, record: bool) -> None:
    """Run the API (and the recorder, which feeds live view) until stopped; then close."""
    import uvicorn  # noqa: PLC0415 - only the serving commands need the server

    from vigil.api.app import create_api  # noqa: PLC0415

    proxies = services.config.api.trusted_proxies
    # uvicorn raises the signal that stopped it again once it has shut down; SIGTERM's
    # default action would then end the process before the recorder (and its last segment)
    # and the analysis workers are closed.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with recording(services, record=record):
            api = create_api(services)
            # What start-up made (models, routes, schemas: some 200,000 objects) stays for
            # good: kept out of the collector's full passes, which otherwise paused a
            # request now and then for about 0.1 s (search_scale_bench).
            gc.freeze()
            uvicorn.run(
                api,
                host=host or services.config.api.host,
                port=port or services.config.api.port,
                log_level="info",
                # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise.
                proxy_headers=bool(proxies),
                forwarded_allow_ips=",".join(proxies) if proxies else "",
                # Live video and alert events are endless responses: on shutdown, end them
                # after a grace period instead of waiting for every browser to leave.
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            )
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def recording(services: Services, *, record: bool = True) -> Iterator[None]:
    """Recorder, analysis and alert events (as configured) while it lasts; then closes all.

    In cluster mode the recorder is an ingest node's: its segments become JetStream jobs
    for the cluster's workers, and its internal endpoint serves them.
    """
    queue: JobQueue | None = None
    node = None
    on_segment = None
    try:
        if record and services.config.cluster.enabled:
            node = services.ingest_node()
            node.start()
            console.print(f"ingest node {node.name}: segments served at {node.url}")
        if record and services.config.analytics.enabled:
            pipeline = services.analytics.pipeline
            queue = services.analysis() if node is None else node.jobs
            waiting = pipeline.start(queue)
            on_segment = pipeline.segment_closed
            if waiting:
                console.print(f"analysing {waiting} segments recorded earlier")
        recorder = services.recorder(on_segment) if record else None
        if recorder is not None:
            recorder.start()
        publishers = services.alert_publishers()
        for publisher in publishers:
            publisher.start()
        try:
            yield
        finally:
            for publisher in publishers:
                publisher.stop()
            if recorder is not None:
                recorder.stop()
    finally:
        if queue is not None:
            queue.close()
        if node is not None:
            node.stop()
        services.close()


def record_only(
    ctx: typer.Context,
    node: str | None = typer.Option(
        None, "--node", help="Cluster mode: this ingest node's name (records its cameras)."
    ),
) -> None:
    """Record every enabled camera (no API) until SIGINT or SIGTERM: an ingest node.

    In cluster mode it records the cameras assigned to its node (``vigil camera assign``).
    """
    from vigil.app import open_services  # noqa: PLC0415

    state: CliState = ctx.obj
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    services = open_services(state.data_dir, migrate_schema=True, node=node)
    make_private(state.data_dir, services.config.media_root(state.data_dir))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with recording(services):
        console.print("recording every enabled camera; stop with Ctrl-C")
        stop.wait()
