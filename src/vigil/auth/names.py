"""Validation of names people choose (users, groups): no path separators or control chars."""

from __future__ import annotations

import re

from vigil.auth.roles import RESERVED_NAMES
from vigil.errors import InvalidInput

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
# Free text people type (labels, descriptions): anything but control characters and the
# invisible ones that change how text reads (bidi overrides and isolates, zero-width
# characters, the BOM), with which a label could show one thing and be another.
TEXT_PATTERN = (
    r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]*$"
)
_TEXT = re.compile(TEXT_PATTERN)


def check_text(value: str, *, what: str, max_chars: int) -> str:
    if len(value) > max_chars or not _TEXT.fullmatch(value):
        raise InvalidInput(
            f"{what} must be at most {max_chars} characters, without control or invisible "
            "formatting characters",
            field=what,
        )
    return value


def check_name(name: str, *, what: str = "name") -> str:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"{what} {name!r} is not allowed: use 1-64 lowercase letters, digits, '.', '_' or '-',"
            " starting with a letter or digit",
            field=what,
        )
    if name in RESERVED_NAMES:
        raise InvalidInput(f"{what} {name!r} is reserved", field=what)
    return name
