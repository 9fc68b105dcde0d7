"""Where the cameras are: an offline SVG map drawn from their coordinates, no tiles fetched.

The cameras' latitudes and longitudes are projected (Web Mercator, as map tiles are, true
to scale across a city) into the map's box with a margin; north is up and a scale bar says
how far 100 m or 1 km is. A deployment with a tile server may name it (``[ui] map_tiles``,
with its attribution): its tiles are then drawn under the dots, and nothing is fetched
otherwise.
Each camera is a dot coloured by its health, labelled with its name, and a link to its
page where the person may open it. Cameras without coordinates are listed beside it.
Drawn by hand like the transparency chart: the pages' content security policy forbids
style attributes, so colours are presentation attributes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, MARGIN = 720, 360, 40
TILE = 256.0  # a map tile's pixels, and the world's units at zoom 0
EARTH_M = 40_075_016.686  # the equator's length
MIN_SPAN_M = 500.0  # a lone camera is shown in its neighbourhood
MAX_TILES = 48
LENGTHS = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)
COLOURS = {  # as the pages' health badges
    "online": "#1e8449",
    "connecting": "#b9770e",
    "offline": "#b03a2e",
    "disk_full": "#b03a2e",
    "public": "#1f4e79",
}
UNKNOWN = "#7f8c8d"


@dataclass(frozen=True, slots=True)
class MapCamera:
    name: str
    latitude: float | None
    longitude: float | None
    state: str = "public"  # its health (COLOURS), or "public" on the public page
    href: str | None = None  # its page, where the viewer may open it
    note: str = ""  # its site and group, said when pointed at

    @property
    def placed(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def _scale_bar(metres_per_px: float) -> tuple[int, str]:
    """The longest round length that fits a quarter of the map: its pixels and its text."""
    fitting = [m for m in LENGTHS if m / metres_per_px <= WIDTH / 4] or [LENGTHS[0]]
    metres = fitting[-1]
    text = f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
    return round(metres / metres_per_px), text


def _world(latitude: float, longitude: float) -> tuple[float, float]:
    """Web Mercator at zoom 0: the world is 256 units square, as map tiles number it."""
    y = math.asinh(math.tan(math.radians(latitude)))
    return (longitude + 180) / 360 * TILE, (1 - y / math.pi) / 2 * TILE


@dataclass(frozen=True, slots=True)
class Tiles:
    """A tile server's URL template ({z}/{x}/{y}) and the attribution it asks for."""

    url: str
    attribution: str


def camera_map(cameras: Sequence[MapCamera], title: str, tiles: Tiles | None = None) -> Markup:
    """The map of the cameras that have coordinates (empty markup when none has), on the
    ``tiles`` where a deployment has a tile server."""
    placed = [c for c in cameras if c.placed]
    if not placed:
        return Markup("")
    points = [_world(c.latitude or 0.0, c.longitude or 0.0) for c in placed]
    latitude = sum(c.latitude or 0.0 for c in placed) / len(placed)
    metres_per_unit = EARTH_M * math.cos(math.radians(latitude)) / TILE
    least = MIN_SPAN_M / metres_per_unit
    xs, ys = [x for x, _ in points], [y for _, y in points]
    span_x, span_y = max(max(xs) - min(xs), least), max(max(ys) - min(ys), least)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)  # px a unit
    middle = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)

    def at(world: tuple[float, float]) -> tuple[float, float]:
        x, y = world
        return WIDTH / 2 + (x - middle[0]) * scale, HEIGHT / 2 + (y - middle[1]) * scale

    bar, bar_text = _scale_bar(metres_per_unit / scale)
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="map-title" class="citymap">'
        f'<title id="map-title">{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f4f6f7" stroke="#d5d8dc"/>'
        f"{'' if tiles is None else _tiles(tiles, scale, middle)}"
        f'<text x="{WIDTH - 16}" y="24" font-size="12" text-anchor="end" fill="#4d5656">N ↑</text>'
        f'<line x1="16" y1="{HEIGHT - 16}" x2="{16 + bar}" y2="{HEIGHT - 16}" stroke="#17202a" '
        f'stroke-width="2"/><text x="16" y="{HEIGHT - 22}" font-size="11" fill="#17202a">'
        f"{bar_text}</text>"
    )
    parts = [opening]
    for camera in sorted(placed, key=lambda c: c.name):
        x, y = at(_world(camera.latitude or 0.0, camera.longitude or 0.0))
        colour = COLOURS.get(camera.state, UNKNOWN)
        # The name on the dot's right, or its left in the map's right third (not cut off).
        side, anchor = (10, "start") if x < WIDTH * 2 / 3 else (-10, "end")
        said = f"{camera.name}: {camera.state}" + (f" · {camera.note}" if camera.note else "")
        dot = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}" stroke="#ffffff" '
            f'stroke-width="2"><title>{escape(said)}</title></circle>'
            f'<text x="{x + side:.1f}" y="{y + 4:.1f}" font-size="12" fill="#17202a" '
            f'text-anchor="{anchor}">{escape(camera.name)}</text>'
        )
        if camera.href is not None:
            dot = f'<a href="{escape(camera.href)}" aria-label="{escape(said)}">{dot}</a>'
        parts.append(f'<g class="map-camera" data-camera="{escape(camera.name)}">{dot}</g>')
    if tiles is not None:
        parts.append(
            f'<text x="{WIDTH - 8}" y="{HEIGHT - 8}" font-size="10" text-anchor="end" '
            f'fill="#17202a">{escape(tiles.attribution)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped text and numbers


def _tiles(tiles: Tiles, scale: float, middle: tuple[float, float]) -> str:
    """The tiles under the map's box, at the zoom whose tiles are drawn 1 to 2 times their
    size, as SVG images (at most MAX_TILES)."""
    zoom = min(19, max(0, math.floor(math.log2(scale))))
    unit = TILE / 2**zoom  # a tile's width in world units
    size = unit * scale  # ... and on the map
    first_x = math.floor((middle[0] - WIDTH / 2 / scale) / unit)
    first_y = math.floor((middle[1] - HEIGHT / 2 / scale) / unit)
    across, down = math.ceil(WIDTH / size) + 1, math.ceil(HEIGHT / size) + 1
    images = []
    for ty in range(max(0, first_y), min(2**zoom, first_y + down)):
        for tx in range(max(0, first_x), min(2**zoom, first_x + across)):
            href = tiles.url.replace("{z}", str(zoom)).replace("{x}", str(tx))
            href = href.replace("{y}", str(ty))
            x = WIDTH / 2 + (tx * unit - middle[0]) * scale
            y = HEIGHT / 2 + (ty * unit - middle[1]) * scale
            images.append(
                f'<image href="{escape(href)}" x="{x:.1f}" y="{y:.1f}" width="{size:.1f}" '
                f'height="{size:.1f}"/>'
            )
    return "".join(images[:MAX_TILES])
