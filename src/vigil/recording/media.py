"""Where segment files live: a local media root, written atomically and fsynced.

A segment is written as a hidden ``.part`` file and renamed to its final name only once it
is complete and on disk, so a crash never leaves a truncated file under a final name.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from vigil.errors import DiskFull, NotFound

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
MAIN, ANALYSIS = "main", "analysis"  # a camera's streams: its recording, and for analysis


@dataclass(frozen=True, slots=True)
class SegmentName:
    """The final name of a segment encodes its camera, time span (milliseconds, UTC) and,
    for an analysis stream's, the stream (``....analysis.mp4``)."""

    camera_id: int
    start_ms: int
    end_ms: int
    stream: str = MAIN

    @property
    def relative(self) -> str:
        day = datetime.fromtimestamp(self.start_ms / 1000, UTC).strftime("%Y-%m-%d")
        kind = "" if self.stream == MAIN else f".{self.stream}"
        return f"{self.camera_id}/{day}/{self.camera_id}-{self.start_ms}-{self.end_ms}{kind}.mp4"

    @classmethod
    def parse(cls, relative: str) -> SegmentName | None:
        stem = Path(relative).name.removesuffix(".mp4")
        stream = ANALYSIS if stem.endswith(f".{ANALYSIS}") else MAIN
        parts = stem.removesuffix(f".{ANALYSIS}").split("-")
        if not relative.endswith(".mp4") or len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        camera_id, start_ms, end_ms = (int(p) for p in parts)
        return cls(camera_id, start_ms, end_ms, stream) if start_ms < end_ms else None


class MediaStore:
    """Segment files under one directory, with a free-space reserve that is never used."""

    def __init__(self, root: Path, *, min_free_bytes: int) -> None:
        self.root = root
        self.min_free_bytes = min_free_bytes

    def path(self, relative: str) -> Path:
        """The file a segment's stored path names, which must lie under the media root (an
        absolute path or ``..`` in the index is refused: it could name any file)."""
        joined = self.root / relative
        if Path(relative).is_absolute() or not joined.resolve().is_relative_to(self.root.resolve()):
            raise NotFound(f"the segment path {relative!r} leads out of {self.root}")
        return joined

    def free_bytes(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        return shutil.disk_usage(self.root).free

    def check_space(self) -> None:
        free = self.free_bytes()
        if free < self.min_free_bytes:
            raise DiskFull(
                f"only {free // 2**20} MiB free under {self.root}; recording keeps "
                f"{self.min_free_bytes // 2**20} MiB free",
                free_bytes=free,
            )

    def open_part(self, camera_id: int, start_ms: int, stream: str = MAIN) -> tuple[Path, BinaryIO]:
        self.check_space()
        folder = self.root / str(camera_id)
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".{camera_id}-{start_ms}-{stream}{PART_SUFFIX}"
        try:
            return part, part.open("wb")
        except OSError as exc:
            raise disk_error(exc) from exc

    def commit(self, part: Path, handle: BinaryIO, name: SegmentName) -> Path:
        """Flush and fsync the part, then rename it to its final name and fsync the folder."""
        final = self.path(name.relative)
        try:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            final.parent.mkdir(parents=True, exist_ok=True)
            part.replace(final)
            _fsync_dir(final.parent)
        except OSError as exc:
            discard(part, handle)
            raise disk_error(exc) from exc
        return final

    def delete(self, relative: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(relative).unlink()

    def leftovers(self) -> list[Path]:
        """Part files a crash left behind: never indexed, so never part of a recording."""
        return sorted(self.root.glob(f"*/.*{PART_SUFFIX}")) if self.root.exists() else []

    def segment_files(self) -> list[str]:
        if not self.root.exists():
            return []
        return sorted(str(p.relative_to(self.root)) for p in self.root.glob("*/*/*.mp4"))

    def used_bytes(self) -> int:
        if not self.root.exists():
            return 0
        return sum(p.stat().st_size for p in self.root.glob("*/*/*.mp4"))


def discard(part: Path, handle: BinaryIO) -> None:
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(OSError):
        part.unlink()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def disk_error(exc: OSError) -> OSError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"the media disk is full: {exc.strerror}")
    return exc
