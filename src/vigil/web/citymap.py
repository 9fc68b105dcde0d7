"""Where the cameras are: an offline SVG map drawn from their coordinates, no tiles fetched.

The cameras' latitudes and longitudes are projected (equirectangular, longitude scaled by
the cosine of the middle latitude, which keeps a city's distances true to a percent) into
the map's box with a margin; north is up and a scale bar says how far 100 m or 1 km is.
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
METRES_PER_DEGREE = 111_320.0
MIN_SPAN = 0.005  # degrees (about 500 m): a lone camera is shown in its neighbourhood
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


def camera_map(cameras: Sequence[MapCamera], title: str) -> Markup:
    """The map of the cameras that have coordinates (empty markup when none has)."""
    placed = [c for c in cameras if c.placed]
    if not placed:
        return Markup("")
    lats = [c.latitude for c in placed if c.latitude is not None]
    lons = [c.longitude for c in placed if c.longitude is not None]
    squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max((max(lons) - min(lons)) * squeeze, MIN_SPAN)
    span_y = max(max(lats) - min(lats), MIN_SPAN)
    px = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    middle_x = (max(lons) + min(lons)) / 2 * squeeze
    middle_y = (max(lats) + min(lats)) / 2

    def at(latitude: float, longitude: float) -> tuple[float, float]:
        x = WIDTH / 2 + (longitude * squeeze - middle_x) * px
        y = HEIGHT / 2 - (latitude - middle_y) * px
        return x, y

    bar, bar_text = _scale_bar(METRES_PER_DEGREE / px)
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-labelledby="map-title" class="citymap">'
        f'<title id="map-title">{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f4f6f7" stroke="#d5d8dc"/>'
        f'<text x="{WIDTH - 16}" y="24" font-size="12" text-anchor="end" fill="#4d5656">N ↑</text>'
        f'<line x1="16" y1="{HEIGHT - 16}" x2="{16 + bar}" y2="{HEIGHT - 16}" stroke="#17202a" '
        f'stroke-width="2"/><text x="16" y="{HEIGHT - 22}" font-size="11" fill="#17202a">'
        f"{bar_text}</text>"
    )
    parts = [opening]
    for camera in sorted(placed, key=lambda c: c.name):
        x, y = at(camera.latitude or 0.0, camera.longitude or 0.0)
        colour = COLOURS.get(camera.state, UNKNOWN)
        said = f"{camera.name}: {camera.state}" + (f" · {camera.note}" if camera.note else "")
        dot = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}" stroke="#ffffff" '
            f'stroke-width="2"><title>{escape(said)}</title></circle>'
            f'<text x="{x + 10:.1f}" y="{y + 4:.1f}" font-size="12" fill="#17202a">'
            f"{escape(camera.name)}</text>"
        )
        if camera.href is not None:
            dot = f'<a href="{escape(camera.href)}" aria-label="{escape(said)}">{dot}</a>'
        parts.append(f'<g class="map-camera" data-camera="{escape(camera.name)}">{dot}</g>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped text and numbers
