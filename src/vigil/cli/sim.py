"""``vigil sim serve``: simulated RTSP cameras with people walking through at known times."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from pathlib import Path

import typer

from vigil.cli.output import JSON, console, emit
from vigil.sim.files import file_feeds, render_feeds
from vigil.sim.scenario import WINDOW_S, Scenario, load_people, write_truth
from vigil.sim.server import SimServer, StreamFormat

app = typer.Typer(no_args_is_help=True)


def build_scenario(
    *,
    faces: Path | None,
    cameras: int,
    seed: int,
    people: int | None,
    fmt: StreamFormat,
    noise: int,
) -> Scenario:
    rng = random.Random(seed)
    return Scenario(
        cameras=[f"cam{i + 1}" for i in range(cameras)],
        people=load_people(faces, people, rng),
        started_at=datetime.now(UTC),
        seed=seed,
        width=fmt.width,
        height=fmt.height,
        noise=noise,
    )


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
    from_files: Path | None = typer.Option(
        None,
        "--from-files",
        help="Serve each H.264 file of this folder as a camera named by the file, by stream "
        "copy, looped (made by 'vigil sim render'; nothing is drawn or encoded).",
    ),
    as_json: bool = JSON,
) -> None:
    """Serve N simulated cameras at rtsp://127.0.0.1:PORT/cam1 ... camN until stopped."""
    logging.basicConfig(level=logging.INFO)
    if from_files is not None:
        _serve_files(from_files, port=port, duration=duration, as_json=as_json)
        return
    fmt = _format(width, height, fps)
    scenario = build_scenario(
        faces=faces, cameras=cameras, seed=seed, people=people, fmt=fmt, noise=noise
    )
    server = SimServer.simulated(scenario, fmt, port=port)

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


@app.command("render")
def render(
    folder: Path = typer.Argument(..., help="Where the files go (camK.mp4)."),
    seconds: float = typer.Option(60.0, "--seconds", min=1, max=3600),
    faces: Path | None = typer.Option(
        None, "--faces", help="Folder of people, one sub-folder of photos each (LFW layout)."
    ),
    cameras: int = typer.Option(4, "--cameras", min=1, max=64),
    seed: int = typer.Option(0, "--seed"),
    people: int | None = typer.Option(None, "--people", min=1, help="Use this many people."),
    width: int = typer.Option(640, "--width", min=160, max=3840),
    height: int = typer.Option(360, "--height", min=120, max=2160),
    fps: int = typer.Option(10, "--fps", min=1, max=60),
    noise: int = typer.Option(0, "--noise", min=0, max=64, help="Sensor noise amplitude."),
    as_json: bool = JSON,
) -> None:
    """Draw and encode N simulated cameras into files, for 'vigil sim serve --from-files'."""
    fmt = _format(width, height, fps)
    scenario = build_scenario(
        faces=faces, cameras=cameras, seed=seed, people=people, fmt=fmt, noise=noise
    )
    with console.status(f"rendering {cameras} cameras of {seconds:.0f} s"):
        written = render_feeds(scenario, folder, seconds=seconds, fmt=fmt)
    emit(
        {"files": [str(p) for p in written], "seconds": seconds},
        as_json,
        lambda: console.print(f"{len(written)} files of {seconds:.0f} s in {folder}"),
    )


def _format(width: int, height: int, fps: int) -> StreamFormat:
    return StreamFormat(width=width - width % 2, height=height - height % 2, fps=fps)


def _serve_files(folder: Path, *, port: int, duration: float | None, as_json: bool) -> None:
    server = SimServer(file_feeds(folder), port=port)
    server.start()
    urls = {camera: server.url(camera) for camera in server.feeds}
    emit(
        {"cameras": urls, "from_files": str(folder)},
        as_json,
        lambda: console.print(
            f"serving {len(urls)} files of {folder} by stream copy: " + ", ".join(urls.values())
        ),
    )
    server.run(duration_s=duration)
