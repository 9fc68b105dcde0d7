"""``vigil sim serve``: simulated RTSP cameras with people walking through at known times."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from pathlib import Path

import typer

from vigil.cli.output import console, emit
from vigil.sim.scenario import WINDOW_S, Scenario, load_people, write_truth
from vigil.sim.server import SimServer, StreamFormat

app = typer.Typer(no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Machine-readable output.")


def build_server(
    *,
    faces: Path | None,
    cameras: int,
    port: int,
    seed: int,
    people: int | None,
    fmt: StreamFormat,
    noise: int = 0,
    host: str = "127.0.0.1",
) -> SimServer:
    rng = random.Random(seed)
    scenario = Scenario(
        cameras=[f"cam{i + 1}" for i in range(cameras)],
        people=load_people(faces, people, rng),
        started_at=datetime.now(UTC),
        seed=seed,
        width=fmt.width,
        height=fmt.height,
        noise=noise,
    )
    return SimServer(scenario, fmt, host=host, port=port)


@app.command("serve")
def serve(
    faces: Path | None = typer.Option(
        None, "--faces", help="Folder of people, one sub-folder of photos each (LFW layout)."
    ),
    cameras: int = typer.Option(4, "--cameras", min=1, max=64),
    port: int = typer.Option(8554, "--port", min=1, max=65535),
    seed: int = typer.Option(0, "--seed"),
    truth: Path | None = typer.Option(None, "--truth", help="Write the ground truth here (JSON)."),
    people: int | None = typer.Option(None, "--people", min=1, help="Use this many people."),
    width: int = typer.Option(640, "--width", min=160, max=3840),
    height: int = typer.Option(360, "--height", min=120, max=2160),
    fps: int = typer.Option(10, "--fps", min=1, max=60),
    noise: int = typer.Option(0, "--noise", min=0, max=64, help="Sensor noise amplitude."),
    duration: float | None = typer.Option(None, "--duration", min=1, help="Stop after seconds."),
    as_json: bool = JSON,
) -> None:
    """Serve N simulated cameras at rtsp://127.0.0.1:PORT/cam1 ... camN until stopped."""
    logging.basicConfig(level=logging.INFO)
    fmt = StreamFormat(width=width - width % 2, height=height - height % 2, fps=fps)
    server = build_server(
        faces=faces, cameras=cameras, port=port, seed=seed, people=people, fmt=fmt, noise=noise
    )
    scenario = server.scenario

    def write() -> None:
        if truth is not None:
            elapsed = (datetime.now(UTC) - scenario.started_at).total_seconds()
            until = duration if duration is not None else elapsed + WINDOW_S
            write_truth(truth, scenario.truth(until))

    write()
    server.start()
    urls = {camera: server.url(camera) for camera in scenario.cameras}
    emit(
        {
            "cameras": urls,
            "truth": None if truth is None else str(truth),
            "people": len(scenario.people),
        },
        as_json,
        lambda: console.print(
            f"serving {len(urls)} simulated cameras ({len(scenario.people)} people): "
            + ", ".join(urls.values())
        ),
    )
    server.run(duration_s=duration, on_tick=write)
