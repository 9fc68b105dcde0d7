"""Stream URLs: credentials split off, bad URLs refused."""

from __future__ import annotations

import pytest

from vigil.cameras.urls import describe_credentials, parse_stream_url
from vigil.errors import InvalidInput


@pytest.mark.parametrize(
    ("url", "public", "credentials"),
    [
        ("rtsp://10.0.0.5:554/live", "rtsp://10.0.0.5:554/live", None),
        ("rtsp://admin:p%40ss@cam.local/h264", "rtsp://cam.local/h264", "admin:p%40ss"),
        ("rtsps://viewer@cam.local:322/s", "rtsps://cam.local:322/s", "viewer"),
        ("https://u:p@x.example/live.m3u8?token=1", "https://x.example/live.m3u8?token=1", "u:p"),
        ("file:///srv/import/clip.mp4", "file:///srv/import/clip.mp4", None),
    ],
)
def test_credentials_are_split_off(url: str, public: str, credentials: str | None) -> None:
    stream = parse_stream_url(url)
    assert stream.public == public
    assert stream.credentials == credentials
    assert stream.full() == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://cam/x", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("rtsp://cam/has space", "without spaces"),
        ("rtsp://cam/x\n", "control"),
        ("rtsp:///nohost", "no host"),
        ("file://relative/path.mp4", "absolute path"),
        ("rtsp://cam/" + "x" * 3000, "at most"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_stream_url(url)


def test_only_the_user_name_is_ever_described() -> None:
    assert describe_credentials("op%20x:secret") == "op x"
    assert describe_credentials(None) is None
