"""Where a segment's bytes are read: this machine's media store, or in a cluster the node
that recorded the segment (its internal endpoint answers nodes only, never people)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vigil.recording.media import MediaStore
from vigil.recording.records import Segment

# Reads a segment recorded by another cluster node, from that node; PeerUnavailable when
# the node cannot be reached, NotFound when its retention deleted the segment.
RemoteSegments = Callable[[Segment], bytes]


@dataclass(frozen=True, slots=True)
class SegmentFiles:
    store: MediaStore
    remote: RemoteSegments | None = None

    @contextmanager
    def opened(self, segment: Segment, scratch: Path) -> Iterator[Path]:
        """A file of the segment while the block lasts: its own, or a private copy in
        ``scratch`` of one another node recorded (deleted afterwards)."""
        local = self.store.path(segment.path)
        if self.remote is None or segment.node is None or local.is_file():
            yield local
            return
        with tempfile.NamedTemporaryFile(dir=scratch, suffix=".mp4") as copy:
            copy.write(self.remote(segment))
            copy.flush()
            yield Path(copy.name)


@contextmanager
def new_clip(scratch: Path, prefix: str) -> Iterator[Path]:
    """A new, empty MP4 file in ``scratch`` for an export: removed when the block fails;
    once it succeeds the file is the caller's (to delete after sending it)."""
    scratch.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(prefix=prefix, suffix=".mp4", dir=scratch)
    os.close(fd)
    path = Path(raw)
    finished = False
    try:
        yield path
        finished = True
    finally:
        if not finished:
            path.unlink(missing_ok=True)
