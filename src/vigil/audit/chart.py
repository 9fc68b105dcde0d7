"""The published reports' counts month by month, as one inline SVG: a row of bars per count.

Drawn by hand, not by matplotlib: the page's content security policy forbids the ``style``
attributes matplotlib writes, and a few bars need no more than rectangles and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

# What each row counts: its label and where the number is in a report.
SERIES = (
    ("Cases opened", ("cases", "opened")),
    ("Searches by photo", ("searches", "run")),
    ("Alerts raised", ("alerts", "raised")),
    ("Watchlist entries approved", ("watchlist", "approved")),
    ("Requests of people on camera", ("subject_requests", "received")),
    ("Public cameras at the month's end", ("public_cameras", "public_at_end")),
)
WIDTH, ROW, LABEL, BAR_GAP = 720, 56, 230, 6


def _count(report: dict[str, Any], path: tuple[str, str]) -> int:
    section = report.get(path[0]) or {}
    return int(section.get(path[1]) or 0)


def month_chart(months: Sequence[tuple[str, dict[str, Any]]]) -> Markup:
    """(month, report) oldest first, as an SVG with a title and a text equivalent."""
    slot = (WIDTH - LABEL) / max(1, len(months))
    height = ROW * len(SERIES) + 24
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="chart-title" '
        'class="chart">'
    )
    parts = [
        opening,
        '<title id="chart-title">Each count of the published reports, month by month</title>',
    ]
    for row, (label, path) in enumerate(SERIES):
        values = [_count(report, path) for _, report in months]
        top, most = row * ROW, max([*values, 1])
        parts.append(
            f'<text x="0" y="{top + ROW / 2 + 4:.0f}" font-size="13" fill="#17202a">'
            f"{escape(label)}</text>"
        )
        for i, value in enumerate(values):
            tall = (ROW - 22) * value / most
            x = LABEL + i * slot
            parts.append(
                f'<rect x="{x + BAR_GAP / 2:.1f}" y="{top + ROW - 8 - tall:.1f}" '
                f'width="{max(1.0, slot - BAR_GAP):.1f}" height="{tall:.1f}" fill="#2e86c1">'
                f"<title>{escape(label)}, {escape(months[i][0])}: {value}</title></rect>"
                f'<text x="{x + slot / 2:.1f}" y="{top + ROW - 10 - tall:.1f}" font-size="11" '
                f'text-anchor="middle" fill="#17202a">{value}</text>'
            )
    for i, (month, _) in enumerate(months):
        parts.append(
            f'<text x="{LABEL + i * slot + slot / 2:.1f}" y="{height - 6}" font-size="11" '
            f'text-anchor="middle" fill="#4d5656">{escape(month)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped text and numbers
