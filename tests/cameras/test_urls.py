"""Stream URLs: credentials split off, bad URLs refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.cameras.urls import describe_credentials, parse_stream_url, shown
from vigil.errors import InvalidInput

IMPORTS = Path("/srv/import")


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
    stream = parse_stream_url(url, IMPORTS)
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
        ("rtsp://u:p@[::1/x", "malformed"),
        ("rtsp://cam:99999/x", "malformed"),
        ("rtsp://cam:0/x", "port must be 1 to 65535"),
        ("rtsp://cam:-1/x", "malformed"),
        ("file:///etc/passwd", "import directory"),
        ("file:///srv/import/../../etc/passwd", "import directory"),
        ("file:///srv/importer/clip.mp4", "import directory"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_stream_url(url, IMPORTS)


def test_a_link_out_of_the_import_directory_is_refused(tmp_path: Path) -> None:
    imports = tmp_path / "imports"
    imports.mkdir()
    (imports / "inside.mp4").symlink_to("/etc/passwd")
    with pytest.raises(InvalidInput, match="import directory"):
        parse_stream_url(f"file://{imports}/inside.mp4", imports)


def test_query_values_are_never_shown() -> None:
    url = "https://x.example/live.m3u8?token=s3cret&profile=main"
    assert shown(url) == "https://x.example/live.m3u8?token=***&profile=***"
    assert "s3cret" not in shown(url)
    assert shown("rtsp://cam.local/h264") == "rtsp://cam.local/h264"


def test_only_the_user_name_is_ever_described() -> None:
    assert describe_credentials("op%20x:secret") == "op x"
    assert describe_credentials(None) is None
