"""The offline camera map (issue 32, item 2): placed by coordinates, north up, true to scale."""

from __future__ import annotations

import math
import re

import pytest
from fastapi import FastAPI

from tests.conftest import config_for
from vigil.api.middleware import SecurityHeadersMiddleware
from vigil.config import parse_config
from vigil.errors import ConfigError
from vigil.web.citymap import WIDTH, MapCamera, Tiles, camera_map

STATION = MapCamera("station", 48.1402, 11.5600, "online", "/cameras/station", "central")
HARBOUR = MapCamera("harbour", 48.1300, 11.6000, "offline", None)
NOWHERE = MapCamera("<nowhere>", None, None)


def _dots(svg: str) -> dict[str, tuple[float, float]]:
    found = re.findall(r'data-camera="([^"]+)".*?cx="([\d.]+)" cy="([\d.]+)"', svg)
    return {name: (float(x), float(y)) for name, x, y in found}


def test_cameras_are_placed_north_up_east_right_and_linked_where_they_may_be_opened() -> None:
    svg = str(camera_map([STATION, HARBOUR, NOWHERE], "the city"))
    dots = _dots(svg)
    assert set(dots) == {"station", "harbour"}  # no coordinates: not on the map
    assert dots["harbour"][0] > dots["station"][0]  # east is right
    assert dots["harbour"][1] > dots["station"][1]  # south is down
    assert '<a href="/cameras/station"' in svg
    assert "/cameras/harbour" not in svg  # not the viewer's to open
    assert 'fill="#1e8449"' in svg  # online
    assert 'fill="#b03a2e"' in svg  # offline
    # The 2.9 km between them, east-west, is drawn to the scale bar's scale.
    bar = re.search(r'x2="([\d.]+)" y2="[\d.]+" stroke="#17202a"', svg)
    assert bar is not None
    label = re.search(r"(\d+) (km|m)</text>", svg)
    assert label is not None
    metres = int(label[1]) * (1000 if label[2] == "km" else 1)
    px_per_metre = (float(bar[1]) - 16) / metres
    east_west_m = (11.6000 - 11.5600) * 111_320 * 0.6673  # cos(48.135°)
    drawn = dots["harbour"][0] - dots["station"][0]
    assert abs(drawn / px_per_metre - east_west_m) / east_west_m < 0.02
    assert float(bar[1]) - 16 <= WIDTH / 4


def test_names_are_escaped_and_no_coordinates_means_no_map() -> None:
    odd = MapCamera('<script>"x"', 48.0, 11.0)
    assert "<script>" not in str(camera_map([odd], "t"))
    assert str(camera_map([NOWHERE], "t")) == ""


def test_a_deployments_tile_server_is_drawn_under_the_dots_with_its_attribution() -> None:
    tiles = Tiles("https://tiles.example.org/{z}/{x}/{y}.png", "© Example contributors")
    svg = str(camera_map([STATION, HARBOUR], "the city", tiles))
    images = re.findall(r'<image href="https://tiles.example.org/(\d+)/(\d+)/(\d+).png"', svg)
    assert 2 <= len(images) <= 48
    zoom = {int(z) for z, _, _ in images}
    assert zoom == {14}  # 2.9 km across 640 px: zoom 14's tiles, drawn 1.37 times their size
    # The station's tile, by the slippy-map scheme's own formula.
    lat = math.radians(STATION.latitude or 0.0)
    x = int(((STATION.longitude or 0.0) + 180) / 360 * 2**14)
    y = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * 2**14)
    assert ("14", str(x), str(y)) in images
    assert svg.index("<image") < svg.index("<circle")  # under the dots
    assert "© Example contributors" in svg
    assert "<image" not in str(camera_map([STATION, HARBOUR], "the city"))  # none by default


def test_a_tile_server_needs_a_url_template_and_its_attribution() -> None:
    raw = config_for("sqlite://").model_dump(mode="python")
    for tiles, said in (
        ({"map_tiles": "ftp://x/{z}/{x}/{y}"}, "http"),
        ({"map_tiles": "https://x/{z}/{x}.png"}, "http"),
        ({"map_tiles": "https://x/{z}/{x}/{y}.png"}, "attribution"),
    ):
        raw["ui"] = tiles
        with pytest.raises(ConfigError, match=said):
            parse_config(raw)
    raw["ui"] = {"map_tiles": "https://t.example/{z}/{x}/{y}.png", "map_attribution": "© T"}
    assert parse_config(raw).ui.tile_origin == "https://t.example"


def test_the_pages_may_load_images_from_the_tile_server_alone() -> None:
    app = FastAPI()
    named = SecurityHeadersMiddleware(app, "/docs", "https://t.example")
    assert "img-src 'self' https://t.example data: blob:;" in named.csp
    assert "img-src 'self' data: blob:;" in SecurityHeadersMiddleware(app, "/docs").csp
