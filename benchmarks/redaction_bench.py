"""Public video's face redaction on real clips: are the faces in the original blurred in
the output, and does a face detector find any face in the output?

    .venv/bin/python benchmarks/redaction_bench.py [CLIP ...] [--fps 15]

Each clip (default: facenet-pytorch's video.mp4, face_recognition's short_hamilton_clip.mp4
and every intel asl_gestures clip) goes through the public path exactly as a recording
does (`vigil.publishing.render`: full-resolution YuNet, boxes grown and carried, scaled to
at most 720p, H.264 in fragmented MP4), and the output is decoded again.

The judge is a stronger detector than the redactor's: YuNet on every original frame
upsampled 2x (faces from 10 px), at recognition's score threshold, faces cut off by the
frame's edge included. For each face it finds, the face's area in the output is compared
with the same area of the original scaled to the output's size: it counts as blurred when
the fine detail of the two (each less its own Gaussian blur) correlates by less than
BLURRED. Compression keeps that detail (an unredacted encode of these clips correlates by
0.81 or more for 99% of faces); pixelation leaves none of it (0.26 or less). The same
detector then looks at every
output frame (upsampled 2x) for any face. Targets (issue 17): >= 99% of faces blurred in
every clip, a face found in <= 0.5% of output frames.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from vigil.faces.yunet import YuNetDetector
from vigil.publishing.redaction import FaceRedactor
from vigil.publishing.render import (
    FragmentEncoder,
    YuNetBoxes,
    output_size,
    redacted,
)
from vigil.recording.playback import recorded_pictures

VIDEO = Path(__file__).parents[2] / "shared" / "datasets" / "video"
CLIPS = [
    VIDEO / "facenet-pytorch" / "video.mp4",
    VIDEO / "face_recognition" / "short_hamilton_clip.mp4",
    *sorted((VIDEO / "intel-sample-videos" / "asl_gestures").glob("*.mkv")),
]
BLURRED = 0.5  # the output's fine detail correlates less with the original's: blurred
TARGET_BLURRED, TARGET_FOUND = 0.99, 0.005


@dataclass
class Result:
    clip: str
    frames: int = 0
    faces: int = 0
    blurred: int = 0
    output_frames_with_face: int = 0
    render_ms: float = 0.0

    @property
    def share_blurred(self) -> float:
        return self.blurred / self.faces if self.faces else 1.0

    @property
    def share_found(self) -> float:
        return self.output_frames_with_face / self.frames if self.frames else 0.0

    def passed(self) -> bool:
        return self.share_blurred >= TARGET_BLURRED and self.share_found <= TARGET_FOUND


def judge() -> YuNetDetector:
    return YuNetDetector(smallest_px=10, max_scale=2.0, threads=2, cut_faces=True)


def fine_detail(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The area's grey levels less their blur at a twelfth of its width: eyes, mouth, edges."""
    gray = Image.fromarray(rgb).convert("L")
    soft = gray.filter(ImageFilter.GaussianBlur(max(1.0, rgb.shape[1] / 12)))
    return np.asarray(gray, np.float32) - np.asarray(soft, np.float32)


def still_visible(original: NDArray[np.uint8], public: NDArray[np.uint8]) -> bool:
    """Whether the public area keeps the original area's fine detail."""
    a, b = fine_detail(original), fine_detail(public)
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return norm > 0 and float((a * b).sum()) / norm >= BLURRED


def render(clip: Path, fps: int, out: Path) -> tuple[list[NDArray[np.uint8]], float]:
    """The public output of the clip (decoded again), and the render's cost per frame."""
    redactor = FaceRedactor(YuNetBoxes(threads=2))
    encoder = FragmentEncoder(fps)
    chunks: list[bytes] = []
    began, n = time.perf_counter(), 0
    for picture in redacted(redactor, recorded_pictures(clip, 0.0, fps, threads=2)):
        chunks += [data for _, data in encoder.encode(picture)]
        n += 1
    chunks += [data for _, data in encoder.close()]
    cost = (time.perf_counter() - began) / max(n, 1) * 1000
    if encoder.init is None:
        sys.exit(f"{clip.name}: no video came out")
    out.write_bytes(encoder.init + b"".join(chunks))
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames, cost


def measure(clip: Path, fps: int, scratch: Path) -> Result:
    result = Result(clip.name)
    output, result.render_ms = render(clip, fps, scratch / f"{clip.stem}.mp4")
    originals = [p.rgb for p in recorded_pictures(clip, 0.0, fps, threads=2)]
    if len(originals) != len(output):
        sys.exit(f"{clip.name}: {len(originals)} frames in, {len(output)} out")
    detector = judge()
    for original, public in zip(originals, output, strict=True):
        result.frames += 1
        height, width = public.shape[:2]
        scale = width / original.shape[1]
        scaled = np.asarray(
            Image.fromarray(original).resize((width, height), Image.Resampling.BILINEAR)
        )
        for found in detector.detect(original):
            left, top, right, bottom = (round(v * scale) for v in found.box)
            left, top = max(0, left), max(0, top)
            right, bottom = min(width, right), min(height, bottom)
            if right - left < 3 or bottom - top < 3:
                continue
            result.faces += 1
            area = (slice(top, bottom), slice(left, right))
            result.blurred += not still_visible(scaled[area], public[area])
        result.output_frames_with_face += bool(detector.detect(public))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path, default=CLIPS)
    parser.add_argument(
        "--fps",
        type=int,
        default=15,
        help="frames a second judged (Vigil sends 10 by default; 15 judges more)",
    )
    args = parser.parse_args()
    missing = [c for c in args.clips if not c.is_file()]
    if missing:
        sys.exit(f"missing clips: {', '.join(map(str, missing))}")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        print(f"{'clip':34} {'frames':>6} {'size':>9} {'faces':>6} {'blurred':>8} "
              f"{'out: face':>9} {'ms/frame':>8}")  # fmt: skip
        for clip in args.clips:
            with av.open(str(clip)) as c:
                size = output_size(c.streams.video[0].width, c.streams.video[0].height)
            r = measure(clip, args.fps, Path(scratch))
            results.append(r)
            print(
                f"{r.clip:34} {r.frames:6d} {size[0]:4d}x{size[1]:<4d} {r.faces:6d} "
                f"{r.share_blurred:8.2%} {r.share_found:9.2%} {r.render_ms:8.1f}"
                + ("" if r.passed() else "  BELOW TARGET")
            )
    faces = sum(r.faces for r in results)
    frames = sum(r.frames for r in results)
    print(
        f"all: {frames} frames, {faces} faces, "
        f"{sum(r.blurred for r in results) / max(faces, 1):.2%} blurred "
        f"(worst clip {min(r.share_blurred for r in results):.2%}, target >= 99%); "
        f"face in {sum(r.output_frames_with_face for r in results) / max(frames, 1):.2%} "
        f"of output frames (worst clip {max(r.share_found for r in results):.2%}, "
        f"target <= 0.5%)"
    )
    sys.exit(0 if all(r.passed() for r in results) else 1)


if __name__ == "__main__":
    main()
