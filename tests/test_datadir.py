"""The local operator is whoever owns the data directory, nobody else."""

from __future__ import annotations

import os
from pathlib import Path

from vigil.datadir import is_local_operator


def test_only_the_owner_of_the_data_dir_is_the_local_operator(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    assert is_local_operator(mine)
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 12345, 12345)
    else:
        theirs = Path("/")  # owned by root, and we are not root
    assert not is_local_operator(theirs)
    assert not is_local_operator(tmp_path / "missing")
