"""``vigil worker``: a cluster analysis worker, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import typer

from vigil.cli.output import console, emit
from vigil.cli.state import CliState
from vigil.errors import ConfigError
from vigil.faces.build import cores_each

JSON = typer.Option(False, "--json", help="Machine-readable output (the totals, at the end).")


def worker(
    ctx: typer.Context,
    threads: int = typer.Option(
        0, "--threads", min=0, max=256, help="Cores ONNX Runtime may use (0: all of them)."
    ),
    as_json: bool = JSON,
) -> None:
    """Analyse segment jobs from the cluster's JetStream work queue until stopped.

    Start as many as there are machines (or cores) to spare; each takes one job at a time.
    """
    from vigil.app import open_services  # noqa: PLC0415 - keeps other commands light

    state: CliState = ctx.obj
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    services = open_services(state.data_dir)
    if not services.config.cluster.enabled:
        raise ConfigError("a worker needs cluster mode: [cluster] nats_url in vigil.toml")
    worker = services.cluster_worker(threads or cores_each(1))
    console.print(f"worker {worker.name}: taking jobs from {services.config.cluster.nats_url}")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(stop)

    try:
        asyncio.run(run())
    finally:
        services.close()
    totals = worker.stats.to_dict()
    emit(totals, as_json, lambda: console.print(f"worker {worker.name} stopped: {totals}"))
