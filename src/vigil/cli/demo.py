"""``vigil demo``: a simulated city, recorded and watchable, from nothing."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import typer

from vigil.auth.roles import LOCAL, RequestContext
from vigil.cli.output import JSON, console, emit
from vigil.cli.setup import serve
from vigil.cli.state import CliState
from vigil.datadir import initialise
from vigil.sim.server import SimulatorError, wait_until_serving

TRUTH_FILE = "sim-truth.json"  # who the simulator walks past which camera, and when
LFW_HINT = (
    "No photo folder of people was given, so the simulated people have no faces.\n"
    "For faces, get LFW (Labeled Faces in the Wild, the deep-funneled images): download\n"
    "lfw-deepfunneled.tgz from https://vis-www.cs.umass.edu/lfw/, unpack it and run\n"
    "  vigil demo --faces path/to/lfw-deepfunneled"
)


def demo(
    ctx: typer.Context,
    faces: Path | None = typer.Option(
        None, "--faces", help="Folder of people, one sub-folder of photos each (LFW layout)."
    ),
    cameras: int = typer.Option(4, "--cameras", min=1, max=64),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Web/API port."),
    sim_port: int = typer.Option(8554, "--sim-port", min=1, max=65535, help="RTSP port."),
    as_json: bool = JSON,
) -> None:
    """Set up (if needed) and run a simulated city: cameras, recording, API and live view."""
    state: CliState = ctx.obj
    first = initialise(state.data_dir, admin_password=None, request_id=uuid.uuid4().hex)
    if faces is not None and not faces.is_dir():
        console.print(f"{faces} is not a folder.")
        faces = None
    if faces is None:
        console.print(LFW_HINT)
    simulator = _start_simulator(state.data_dir, faces, cameras, sim_port)
    try:
        from vigil.app import open_services  # noqa: PLC0415 - keeps other commands light
        from vigil.sim.demo import prepare_city  # noqa: PLC0415
        from vigil.sim.showcase import show_everything, where_to_look  # noqa: PLC0415

        services = open_services(state.data_dir, migrate_schema=True)
        ctx_local = RequestContext(LOCAL, uuid.uuid4().hex, "cli")
        logins = prepare_city(services, ctx_local, sim_port, cameras)
        shown = show_everything(services, cameras, state.data_dir / TRUTH_FILE, faces)
        base = f"http://{services.config.api.host}:{port or services.config.api.port}"
        info = {
            "web": f"{base}/login",
            "api": f"{base}/api/v1/docs",
            "logins": {login.username: login.password for login in logins},
            "admin_password": first.generated_password,
            "cameras": [f"rtsp://127.0.0.1:{sim_port}/cam{k}" for k in range(1, cameras + 1)],
            "shown": shown.to_dict(),
        }

        def human() -> None:
            console.print(f"Vigil demo: {cameras} simulated cameras, recording.")
            console.print(f"Sign in at {info['web']} as one of (user / password: what they do):")
            for login in logins:
                console.print(f"  {login.username} / {login.password}: {login.does}")
            if first.generated_password:
                console.print(f"  admin / {first.generated_password} (shown once): users, cameras")
            for line in where_to_look(base, shown):
                console.print(line)
            console.print(f"API docs: {info['api']}")

        emit(info, as_json, human)
        serve(services, host=None, port=port, record=True)
    finally:
        simulator.terminate()
        simulator.wait(10)


def city(
    ctx: typer.Context,
    faces: Path | None = typer.Option(
        None, "--faces", help="Folder of people, one sub-folder of photos each (LFW layout)."
    ),
    cameras: int = typer.Option(4, "--cameras", min=1, max=64),
    sim_port: int = typer.Option(8554, "--sim-port", min=1, max=65535, help="RTSP port."),
    node: str | None = typer.Option(
        None, "--node", help="Cluster mode: the ingest node that records the cameras."
    ),
    as_json: bool = JSON,
) -> None:
    """The demo city without Vigil's own processes: register its cameras (and operator) and
    serve them until stopped; ``vigil record``, ``vigil worker`` and ``vigil up`` run apart.
    """
    state: CliState = ctx.obj
    initialise(state.data_dir, admin_password=None, request_id=uuid.uuid4().hex)
    if faces is None or not faces.is_dir():
        console.print(LFW_HINT)
        faces = None
    simulator = _start_simulator(state.data_dir, faces, cameras, sim_port)
    try:
        from vigil.app import open_services  # noqa: PLC0415 - keeps other commands light
        from vigil.sim.demo import prepare_city  # noqa: PLC0415

        services = open_services(state.data_dir, migrate_schema=True)
        try:
            local = RequestContext(LOCAL, uuid.uuid4().hex, "cli")
            logins = prepare_city(services, local, sim_port, cameras)
            names = [f"cam{k}" for k in range(1, cameras + 1)]
            if node is not None:
                for name in names:
                    services.cameras.assign(local, name, node)
        finally:
            services.close()
        info = {
            "cameras": [f"rtsp://127.0.0.1:{sim_port}/{name}" for name in names],
            "node": node,
            "logins": {login.username: login.password for login in logins},
        }
        emit(
            info,
            as_json,
            lambda: console.print(
                f"demo city: {cameras} simulated cameras"
                + (f", recorded by node {node}" if node else "")
                + "; sign in as "
                + ", ".join(f"{login.username} / {login.password}" for login in logins)
            ),
        )
        simulator.wait()
    finally:
        simulator.terminate()
        simulator.wait(10)


def _start_simulator(
    data_dir: Path, faces: Path | None, cameras: int, port: int
) -> subprocess.Popen[bytes]:
    args = [
        sys.executable, "-m", "vigil", "sim", "serve",
        "--cameras", str(cameras),
        "--port", str(port),
        "--truth", str(data_dir / TRUTH_FILE),
    ]  # fmt: skip
    if faces is not None:
        args += ["--faces", str(faces)]
    log = (data_dir / "sim.log").open("ab")
    process = subprocess.Popen(args, stdout=log, stderr=log)  # noqa: S603 - our own command
    try:
        wait_until_serving(port, process=process)
    except SimulatorError as exc:
        process.terminate()
        raise SimulatorError(f"{exc.message}; see {data_dir / 'sim.log'}") from None
    return process
