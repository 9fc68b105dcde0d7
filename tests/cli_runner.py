"""Runs the real ``vigil`` command in a subprocess, as a person or a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def vigil(data_dir: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "") -> Result:
    environment = {k: v for k, v in os.environ.items() if k != "VIGIL_TOKEN"}
    environment.update({"VIGIL_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})})
    proc = subprocess.run(
        [sys.executable, "-m", "vigil", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin,
        timeout=120,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)
