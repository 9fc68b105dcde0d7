"""``vigil status``: cameras' health, the media disk, and how far face analysis trails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from vigil.analytics.pipeline import backlog
from vigil.cli.output import JSON, console, emit, table
from vigil.cli.state import CliState
from vigil.errors import PeerUnavailable


def status(ctx: typer.Context, as_json: bool = JSON) -> None:
    """Health of the cameras you may see, the media disk, and the analysis backlog and lag."""
    state: CliState = ctx.obj
    services = state.services()
    cameras = services.cameras.list(state.context(services))
    now = datetime.now(UTC)
    rows = []
    for camera in cameras:
        health = services.segments.health(camera.id)
        rows.append(
            {"camera": camera.name, "enabled": camera.enabled}
            | ({"state": "never recorded"} if health is None else health.to_dict())
        )
    analysis = backlog(services.segments).to_dict(now)
    storage = [s.to_dict() for s in services.segments.storage()]
    data: dict[str, Any] = {"cameras": rows, "storage": storage, "analysis": analysis}
    from vigil.app import queue_reader  # noqa: PLC0415 - keeps other commands light

    reader = queue_reader(services.config)
    if reader is not None:
        try:
            data["cluster"] = {"nats": "up"} | reader().to_dict()
        except PeerUnavailable as exc:
            data["cluster"] = {"nats": "unreachable", "detail": exc.message}

    def human() -> None:
        table(
            "Cameras",
            ("camera", "state", "last frame", "fps", "error"),
            [
                (r["camera"], r["state"], r.get("last_frame_at"), r.get("fps"), r.get("error"))
                for r in rows
            ],
        )
        for disk in storage:
            console.print(
                f"media disk ({disk['node']}): {disk['state']}; "
                f"{disk['free_bytes'] // 2**20} MiB free, "
                f"{disk['recorded_bytes'] // 2**20} MiB recorded, "
                f"writing {disk['write_bps'] // 1000} kB/s"
                + (f"; {disk['detail']}" if disk["detail"] else "")
            )
        console.print(
            f"analysis backlog: {analysis['segments']} segments, lag {analysis['lag_s']} s; "
            f"failed: {analysis['failed_segments']} segments, {analysis['failed_frames']} frames"
        )
        if analysis["lowered_segments"]:
            console.print(
                f"analysis behind: {analysis['lowered_segments']} segments of the last "
                f"{analysis['lowered_window_s'] / 60:.0f} min analysed at a lowered rate "
                f"(down to {analysis['lowest_fps']} frames a second)"
            )
        cluster = data.get("cluster")
        if cluster is not None and cluster["nats"] == "up":
            console.print(
                f"work queue: {cluster['jobs_waiting']} jobs waiting, "
                f"{cluster['jobs_in_progress']} in progress, "
                f"{cluster['jobs_redelivered']} redelivered; "
                f"dead letters: {cluster['dead_letters']}"
            )
        elif cluster is not None:
            console.print(f"work queue: NATS unreachable ({cluster['detail']})")

    emit(data, as_json, human)
