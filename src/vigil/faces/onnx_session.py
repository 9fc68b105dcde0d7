"""ONNX Runtime sessions for the face models: one thread budget, the GPU where there is one.

With the ``onnxruntime-gpu`` package and a CUDA device, models run on the GPU (the same
code, the same models); with the ``onnxruntime`` package (Vigil's pinned default), on the
CPU with ``threads`` threads: the process's share of the cores.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def providers(available: list[str]) -> list[str]:
    """The execution providers to ask for, best first."""
    return [CUDA, CPU] if CUDA in available else [CPU]


def open_session(
    path: Path, *, threads: int, what: str, rewrite: Callable[[Path], bytes] | None = None
) -> Any:
    """An inference session of the model at ``path`` (or of ``rewrite(path)``, the model
    changed in memory); a clear error if it cannot load."""
    import onnxruntime  # noqa: PLC0415 - loaded only when faces are used
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors  # noqa: PLC0415

    if not path.is_file():
        raise ConfigError(f"{what} model {path} is missing")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return onnxruntime.InferenceSession(
            str(path) if rewrite is None else rewrite(path),
            options,
            providers=providers(onnxruntime.get_available_providers()),
        )
    except (  # ONNX Runtime's own errors (none of them derives from a common one but Exception)
        ort_errors.EPFail,
        ort_errors.Fail,
        ort_errors.InvalidArgument,
        ort_errors.InvalidGraph,
        ort_errors.InvalidProtobuf,
        ort_errors.NoSuchFile,
        ort_errors.NotImplemented,
        ort_errors.RuntimeException,
    ) as exc:
        raise ConfigError(f"cannot load the {what} model {path}: {exc}") from exc


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vigil"


def cached_conversion(
    sources: Sequence[Path],
    stem: str,
    convert: Callable[[Path, Path], None],
    cache: Path | None = None,
    revision: str = "",
) -> Path:
    """The ONNX model made by ``convert(sources[0], out)`` from model files of another
    format, converted on first use and named by the SHA-256 of all ``sources`` and of the
    converter's ``revision`` (a changed converter writes its own file)."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.read_bytes())
    digest.update(revision.encode())
    path = (cache or cache_dir()) / f"{stem}-{digest.hexdigest()[:16]}.onnx"
    if not path.is_file():
        try:
            convert(sources[0], path)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the face model cache {path.parent}: {exc.strerror}; "
                "set XDG_CACHE_HOME to a folder this user may write"
            ) from None
    return path
