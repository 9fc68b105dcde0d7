"""A flood of huge photo uploads against a running `vigil up` that records a camera.

    .venv/bin/python benchmarks/upload_flood_bench.py [--uploads 50] [--size 6000]

One operator sends UPLOADS copies of a one-colour SIZE x SIZE PNG (about 100 KB, 36
megapixels: under the pixel cap) to ``/api/v1/faces/detect`` all at once, while a simulated
RTSP camera is recorded. Printed: how every upload was answered (a result, 429 over the
user's rate, 503 over the process's photos at once), how many were audited, the slowest
health check during the flood, the server's peak memory, and whether recording went on
(segments closed during the flood, the camera's state after it).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PIL import Image

from alert_latency_bench import PASSWORD
from vigil.app import open_services
from vigil.audit.log import EntryFilter
from vigil.auth.roles import LOCAL, Principal, RequestContext, Role
from vigil.cameras.registry import CameraSpec
from vigil.datadir import initialise
from vigil.sim.server import wait_until_serving

SIM_PORT = 18564
API_PORT = 18090
BASE = f"http://127.0.0.1:{API_PORT}"


def call(path: str, token: str, body: bytes | None = None, ctype: str = "") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    if ctype:
        headers["Content-Type"] = ctype
    request = urllib.request.Request(BASE + path, data=body, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 - ours
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def multipart(png: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return (
        head + png + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def prepare(data: Path) -> str:
    """A data directory with camera cam1 (group city) and operator olga's own token."""
    initialise(data, admin_password=PASSWORD, request_id="bench")
    services = open_services(data)
    try:
        local = RequestContext(LOCAL, uuid.uuid4().hex)
        url = f"rtsp://127.0.0.1:{SIM_PORT}/cam1"
        services.cameras.add(local, CameraSpec("cam1", url, group="city"))
        info = services.users.create(local, "olga", str(Role.OPERATOR), PASSWORD)
        services.groups.grant(local, "city", "olga")
        olga = RequestContext(Principal("olga", "user", Role.OPERATOR, info.id), uuid.uuid4().hex)
        return services.tokens.create(olga, "olga")[1]
    finally:
        services.close()


def segments(token: str) -> tuple[int, str]:
    _, status = call("/api/v1/cameras/cam1/status", token)
    health = status["health"] or {}
    return int(status["coverage"]["segments"]), str(health.get("state"))


def flood(args: argparse.Namespace, token: str, pid: int) -> None:
    image = Image.new("RGB", (args.size, args.size), (90, 140, 200))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    body, ctype = multipart(out.getvalue())
    before, _ = segments(token)
    slowest = 0.0
    done = threading.Event()

    def watch_health() -> None:
        nonlocal slowest
        while not done.is_set():
            started = time.perf_counter()
            with urllib.request.urlopen(BASE + "/api/v1/health", timeout=30) as answer:  # noqa: S310
                answer.read()
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.uploads) as pool:
        answers = list(
            pool.map(
                lambda _: call("/api/v1/faces/detect", token, body, ctype), range(args.uploads)
            )
        )
    took = time.perf_counter() - started
    time.sleep(5)  # let a segment or two close after the flood
    done.set()
    watcher.join()
    after, state = segments(token)
    codes = Counter(code for code, _ in answers)
    print(
        f"{args.uploads} uploads of a {len(body) // 1024} KB {args.size}x{args.size} PNG "
        f"in {took:.1f} s: " + ", ".join(f"{n} x {c}" for c, n in sorted(codes.items()))
    )
    print(f"slowest health check during the flood: {slowest * 1000:.0f} ms")
    print(f"server peak memory (VmHWM): {peak_rss_mib(pid):.0f} MiB")
    print(f"recording: {after - before} segments closed during the flood; camera {state}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--size", type=int, default=6000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        token = prepare(data)
        env = {"VIGIL_DATA_DIR": str(data)}
        sim = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "vigil", "sim", "serve", "--cameras", "1",
             "--port", str(SIM_PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        up = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "vigil", "up", "--port", str(API_PORT)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until_serving(SIM_PORT, process=sim)
            wait_until_serving(API_PORT, process=up)
            deadline = time.monotonic() + 60
            while segments(token)[0] < 1 and time.monotonic() < deadline:
                time.sleep(1)
            flood(args, token, up.pid)
            if up.poll() is not None:
                print(f"vigil up DIED (exit {up.returncode})")
        finally:
            up.terminate()
            up.wait(30)
            sim.terminate()
            sim.wait(20)
        services = open_services(data)
        try:
            with services.db.read() as session:
                flt = EntryFilter(action="faces.detect", limit=1000)
                entries = services.audit.entries(session, flt)
        finally:
            services.close()
        outcomes = Counter(str(e.outcome) for e in entries)
        print(f"audited: {len(entries)} faces.detect entries ({dict(outcomes)})")


if __name__ == "__main__":
    main()
