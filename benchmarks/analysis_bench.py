"""Face analysis throughput: Vigil's pipeline against a naive every-frame loop.

    .venv/bin/python benchmarks/analysis_bench.py [--seconds 30] [--video FILE] [--photo P]

Without --video, a simulated 640x360 scene at 10 fps is made first: people (the photo,
default matplotlib's portrait of Grace Hopper) walk through at the simulator's rate.
Vigil samples 5 fps, skips still frames, embeds every face it finds (a track must hold one
person: box and descriptor both fit) and keeps five diverse descriptors per sighting; the
naive loop decodes every frame and detects and embeds every face in it, as
face_recognition's video examples do. Both run on one core of this machine.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
from matplotlib import cbook

from vigil.analytics.analyzer import VideoAnalyzer
from vigil.config import FacesConfig
from vigil.faces.build import build_face_engine
from vigil.faces.engine import FaceEngine
from vigil.sim.scenario import Renderer, Scenario, load_people


def make_scene(folder: Path, photo: Path, seconds: float) -> Path:
    people_dir = folder / "people" / "person"
    people_dir.mkdir(parents=True)
    (people_dir / "person_0001.jpg").write_bytes(photo.read_bytes())
    people = load_people(folder / "people", None, random.Random(0))
    scenario = Scenario(["cam1"], people, datetime.now(UTC), seed=3)
    renderer = Renderer(scenario, "cam1")
    path = folder / "scene.mp4"
    fps = 10
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(renderer.frame(i / fps), format="rgb24")
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


def naive(engine: FaceEngine, video: Path) -> tuple[int, int, float]:
    """(frames, faces, seconds): detect and embed every face of every frame."""
    frames = faces = 0
    began = time.perf_counter()
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            detections = engine.model.detect(rgb, engine.upsample)
            engine.model.embed(engine.model.chips(rgb, detections))
            frames += 1
            faces += len(detections)
    return frames, faces, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--video", type=Path)
    parser.add_argument(
        "--photo",
        type=Path,
        default=Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)),
    )
    args = parser.parse_args()
    engine = build_face_engine(FacesConfig())
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or make_scene(Path(tmp), args.photo, args.seconds)
        engine.model.detect(np.zeros((64, 64, 3), np.uint8), 0)  # load the models first
        began = time.perf_counter()
        sightings, stats = VideoAnalyzer(engine).analyse(video, 0.0)
        vigil_s = time.perf_counter() - began
        frames, faces, naive_s = naive(engine, video)
    length = stats.seconds or 1.0
    print(f"video: {video.name if args.video else 'simulated 640x360 scene'}, {length:.1f} s")
    print(f"{'':>8} {'wall s':>7} {'x realtime':>10} {'frames/s':>9} {'faces/s':>8}  result")
    print(
        f"{'vigil':>8} {vigil_s:>7.1f} {length / vigil_s:>10.2f} "
        f"{stats.frames_decoded / vigil_s:>9.1f} {stats.faces / vigil_s:>8.1f}  "
        f"{len(sightings)} sightings ({stats.frames_sampled} frames sampled, "
        f"{stats.frames_still} still)"
    )
    print(
        f"{'naive':>8} {naive_s:>7.1f} {length / naive_s:>10.2f} {frames / naive_s:>9.1f} "
        f"{faces / naive_s:>8.1f}  {faces} face descriptors, no tracks"
    )
    print(f"vigil is {naive_s / vigil_s:.1f}x faster than the naive loop on this video")


if __name__ == "__main__":
    main()
