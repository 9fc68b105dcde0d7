"""Splits a fragmented-MP4 byte stream into its init segment and its fragments.

FFmpeg's mp4 muxer with ``frag_keyframe+empty_moov`` writes ``ftyp`` + ``moov`` once, then
one ``moof`` + ``mdat`` pair per keyframe interval. A recording segment is the init segment
followed by whole fragments, so it always starts on a keyframe and plays on its own.
"""

from __future__ import annotations

import io
import struct

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
