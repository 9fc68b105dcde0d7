"""Files people name on the command line, read with a clear error when they can't be."""

from __future__ import annotations

from pathlib import Path

from vigil.errors import InvalidInput


def read_photos(paths: list[Path]) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each photo, in the order given."""
    photos = []
    for path in paths:
        try:
            photos.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return photos


def write_file(out: Path, content: bytes) -> None:
    """Write whole or not at all: aside first, then renamed over ``out``."""
    aside = out.with_name(f".{out.name}.part")
    try:
        aside.write_bytes(content)
        aside.replace(out)
    except OSError as exc:
        aside.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
