"""The fMP4 splitter on real muxer output, written in pieces of any size."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.recorded import clip
from vigil.recording.fmp4 import FragmentSplitter


def _stream() -> bytes:
    init, fragments = clip()
    return init + b"".join(fragments)


def test_real_muxer_output_splits_into_init_and_one_fragment_per_keyframe() -> None:
    init, fragments = clip()
    assert init[4:8] == b"ftyp"
    assert b"moov" in init
    assert len(fragments) == 4  # four seconds, one keyframe a second
    assert all(f[4:8] == b"moof" for f in fragments)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=40))
def test_any_write_boundaries_give_the_same_split(cuts: list[int]) -> None:
    data = _stream()
    splitter = FragmentSplitter()
    position = 0
    for size in cuts:
        splitter.write(data[position : position + size])
        position += size
    splitter.write(data[position:])
    init, fragments = clip()
    assert splitter.init == init
    assert splitter.drain() == fragments
    assert splitter.drain() == []


def test_large_size_boxes_are_read() -> None:
    payload = b"x" * 20
    box = struct.pack(">I4sQ", 1, b"free", 16 + len(payload)) + payload
    splitter = FragmentSplitter()
    splitter.write(box + _stream())
    assert splitter.init == clip()[0]


def test_a_box_smaller_than_its_header_is_refused() -> None:
    with pytest.raises(ValueError, match="malformed"):
        FragmentSplitter().write(struct.pack(">I4s", 4, b"moof"))
