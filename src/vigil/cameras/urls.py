"""Stream URLs: validated, and split into a public part and the credentials kept secret."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

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


def parse_stream_url(url: str) -> StreamUrl:
    if len(url) > MAX_URL_CHARS or _UNSAFE.search(url):
        raise InvalidInput(
            f"stream URL must be at most {MAX_URL_CHARS} characters without spaces or control "
            "characters",
            field="url",
        )
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise InvalidInput(f"stream URL scheme must be one of {', '.join(SCHEMES)}", field="url")
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise InvalidInput("a file URL needs an absolute path: file:///path/to/video.mp4")
        return StreamUrl(public=url, credentials=None)
    if not parts.hostname:
        raise InvalidInput("stream URL has no host", field="url")
    credentials = None
    if parts.username is not None:
        credentials = parts.username + ("" if parts.password is None else f":{parts.password}")
        host = parts.netloc.rsplit("@", 1)[1]
        parts = parts._replace(netloc=host)
    return StreamUrl(public=urlunsplit(parts), credentials=credentials)


def describe_credentials(credentials: str | None) -> str | None:
    """What may be shown of credentials: the user name only."""
    if credentials is None:
        return None
    return unquote(credentials.split(":", 1)[0])
