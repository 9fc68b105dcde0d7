"""Splits a fragmented-MP4 byte stream into its init segment and its fragments.

FFmpeg's mp4 muxer with ``frag_keyframe+empty_moov`` writes ``ftyp`` + ``moov`` once, then
one ``moof`` + ``mdat`` pair per keyframe interval. A recording segment is the init segment
followed by whole fragments, so it always starts on a keyframe and plays on its own.
"""

from __future__ import annotations

import io
import struct

from vigil.errors import InvalidInput

INIT_BOXES = (b"ftyp", b"moov")
# PyAV output options that make FFmpeg's mp4 muxer write fragments as described above.
FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


class FragmentSplitter(io.RawIOBase):
    """A write-only file for PyAV's muxer that collects whole top-level boxes."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()
        self._init = bytearray()
        self._moof: bytes | None = None
        self._fragments: list[bytes] = []
        self.init: bytes | None = None  # ftyp + moov, once the moov has been written

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        while (box := self._next_box()) is not None:
            self._take(box)
        return len(data)

    def drain(self) -> list[bytes]:
        """Fragments (moof + mdat) completed since the last drain."""
        done, self._fragments = self._fragments, []
        return done

    def _next_box(self) -> bytes | None:
        if len(self._buffer) < 8:
            return None
        (size,) = struct.unpack_from(">I", self._buffer)
        header = 8
        if size == 1:  # 64-bit size follows the type
            if len(self._buffer) < 16:
                return None
            (size,) = struct.unpack_from(">Q", self._buffer, 8)
            header = 16
        if size < header:
            raise ValueError(f"malformed MP4 box of size {size}")
        if len(self._buffer) < size:
            return None
        box = bytes(self._buffer[:size])
        del self._buffer[:size]
        return box

    def _take(self, box: bytes) -> None:
        kind = box[4:8]
        if kind in INIT_BOXES:
            self._init += box
            if kind == b"moov":
                self.init = bytes(self._init)
        elif kind == b"moof":
            self._moof = box
        elif kind == b"mdat" and self._moof is not None:
            self._fragments.append(self._moof + box)
            self._moof = None
        # Anything else (the trailing mfra index) is not needed by segments or live view.


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, list[bytes]]:
    """The boxes inside data[start:end], by type (their payloads, headers removed)."""
    found: dict[bytes, list[bytes]] = {}
    at, end = start, len(data) if end is None else end
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise InvalidInput(f"malformed MP4 box {kind!r} of size {size}")
        found.setdefault(kind, []).append(data[at + header : at + size])
        at += size
    return found


def _one(boxes: dict[bytes, list[bytes]], *path: bytes) -> bytes:
    for depth, kind in enumerate(path):
        if kind not in boxes:
            raise InvalidInput(f"MP4 without a {b'/'.join(path[: depth + 1]).decode()} box")
        if depth == len(path) - 1:
            return boxes[kind][0]
        boxes = _boxes(boxes[kind][0])
    raise InvalidInput("an empty MP4 box path")


def media_seconds(init: bytes, fragments: bytes) -> float:
    """Seconds of video that ``fragments`` (moof + mdat pairs following ``init``) play for,
    from their samples' durations: what a player shows, not how long they took to send.
    (One video track, as Vigil writes it.)"""
    top = _boxes(init)
    mdhd = _one(top, b"moov", b"trak", b"mdia", b"mdhd")
    (timescale,) = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)
    moov = _boxes(top[b"moov"][0])
    default = 0
    if b"mvex" in moov and b"trex" in (mvex := _boxes(moov[b"mvex"][0])):
        (default,) = struct.unpack_from(">I", mvex[b"trex"][0], 12)
    ticks = 0
    for moof in _boxes(fragments).get(b"moof", []):
        for traf in _boxes(moof).get(b"traf", []):
            ticks += _traf_ticks(_boxes(traf), default)
    return ticks / timescale if timescale else 0.0


def _traf_ticks(traf: dict[bytes, list[bytes]], default: int) -> int:
    tfhd = traf[b"tfhd"][0]
    (flags,) = struct.unpack_from(">I", tfhd)
    at = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
    if flags & 0x08:
        (default,) = struct.unpack_from(">I", tfhd, at)
    ticks = 0
    for trun in traf.get(b"trun", []):
        (flags, count) = struct.unpack_from(">II", trun)
        flags &= 0xFFFFFF
        at = 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
        if not flags & 0x100:
            ticks += count * default
            continue
        stride = 4 * bin(flags & 0xF00).count("1")
        ticks += sum(struct.unpack_from(">I", trun, at + i * stride)[0] for i in range(count))
    return ticks
