"""Stream URLs: validated, and split into a public part and the credentials kept secret.

A file source must lie in the import directory (an admin cannot make Vigil read, say,
``/etc/passwd`` as a camera). What people are shown of a URL has the values of its query
string hidden (``?token=…`` is as secret as a password).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from vigil.errors import InvalidInput

SCHEMES = ("rtsp", "rtsps", "http", "https", "file")
MAX_URL_CHARS = 2048
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


@dataclass(frozen=True, slots=True)
class StreamUrl:
    """``public`` has no user name or password; ``credentials`` is 'user:password' or None."""

    public: str
    credentials: str | None

    def full(self) -> str:
        """The URL to connect with (credentials included): for ingest only, never shown."""
        if self.credentials is None:
            return self.public
        parts = urlsplit(self.public)
        return urlunsplit(parts._replace(netloc=f"{self.credentials}@{parts.netloc}"))


def parse_stream_url(url: str, import_dir: Path) -> StreamUrl:
    """Check a camera's URL; a file source must be inside ``import_dir``."""
    if len(url) > MAX_URL_CHARS or _UNSAFE.search(url):
        raise InvalidInput(
            f"stream URL must be at most {MAX_URL_CHARS} characters without spaces or control "
            "characters",
            field="url",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"stream URL is malformed: {exc}", field="url") from None
    if parts.scheme not in SCHEMES:
        raise InvalidInput(f"stream URL scheme must be one of {', '.join(SCHEMES)}", field="url")
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise InvalidInput("a file URL needs an absolute path: file:///path/to/video.mp4")
        _check_import(Path(unquote(parts.path)), import_dir)
        return StreamUrl(public=url, credentials=None)
    if not parts.hostname:
        raise InvalidInput("stream URL has no host", field="url")
    if port == 0:
        raise InvalidInput("stream URL port must be 1 to 65535", field="url")
    credentials = None
    if parts.username is not None:
        credentials = parts.username + ("" if parts.password is None else f":{parts.password}")
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=host)
    return StreamUrl(public=urlunsplit(parts), credentials=credentials)


def _check_import(path: Path, import_dir: Path) -> None:
    """The file, links resolved, must be inside the import directory."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(Path(os.path.realpath(import_dir))):
        raise InvalidInput(
            f"a file source must be in the import directory {import_dir} (recording.import_dir)",
            field="url",
        )


def shown(url: str) -> str:
    """The URL as people may see it: query values hidden."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    hidden = "&".join(f"{quote(key, safe='')}=***" for key, _ in pairs)
    return urlunsplit(parts._replace(query=hidden))


def describe_credentials(credentials: str | None) -> str | None:
    """What may be shown of credentials: the user name only."""
    if credentials is None:
        return None
    return unquote(credentials.split(":", 1)[0])
