"""The public delay holds for every frame (issue 28, item 9): a one-second fragment goes
out once its last frame, not its first, was recorded ``delay_s`` ago."""

from __future__ import annotations

from collections import deque

import numpy as np

from vigil.publishing.broadcast import Due, due, released
from vigil.publishing.render import FragmentEncoder
from vigil.recording.playback import Picture

T0 = 1_800_000_000.0
FPS = 5


def _fragments(seconds: int) -> deque[Due]:
    """Real fragments of a moving picture recorded from T0, one a second."""
    encoder = FragmentEncoder(FPS)
    made: list[tuple[float, bytes]] = []
    for n in range(seconds * FPS):
        rgb = np.full((360, 640, 3), (n * 7) % 255, dtype=np.uint8)
        made += encoder.encode(Picture(rgb, T0 + n / FPS))
    made += encoder.close()
    assert encoder.init is not None
    return deque(due(at, encoder.init, data) for at, data in made)


def test_a_fragment_waits_for_its_last_frame() -> None:
    pending = _fragments(3)
    assert [round(f.start - T0, 3) for f in pending] == [0.0, 1.0, 2.0]
    assert [round(f.end - T0, 3) for f in pending] == [1.0, 2.0, 3.0]
    # 1.5 s after T0 the second fragment has begun, but its frames at 1.6 and 1.8 s are
    # not yet due: only the first goes out.
    assert [f.start - T0 for f in released(pending, T0 + 1.5)] == [0.0]
    assert [f.start - T0 for f in released(pending, T0 + 1.99)] == []
    assert [f.start - T0 for f in released(pending, T0 + 3.0)] == [1.0, 2.0]
    assert not pending
