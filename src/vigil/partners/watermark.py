"""The watermark on a third party's video: the organisation's name and the time it shows.

It is drawn into the (already redacted) picture before encoding, at the frame's own
resolution, in a dark band along the bottom edge, so that a copy passed on names who it
was given to and when the footage was recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vigil.recording.playback import Picture

BAND = (0, 0, 0, 150)  # translucent black behind the text
INK = (255, 255, 255, 235)


class Watermark:
    def __init__(self, organisation: str) -> None:
        self.organisation = organisation
        self._fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def text(self, at: float) -> str:
        when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.organisation} · {when}"

    def __call__(self, picture: Picture) -> Picture:
        image = Image.fromarray(picture.rgb)
        size = max(12, image.height // 28)
        font = self._font(size)
        text = self.text(picture.at)
        draw = ImageDraw.Draw(image, "RGBA")
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        pad = max(3, size // 3)
        band_top = image.height - (bottom - top) - 2 * pad
        draw.rectangle((0, band_top, right - left + 2 * pad, image.height), fill=BAND)
        draw.text((pad - left, band_top + pad - top), text, font=font, fill=INK)
        return Picture(np.asarray(image), picture.at)

    def _font(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in self._fonts:
            self._fonts[size] = ImageFont.load_default(size)  # Pillow's own: no system font
        return self._fonts[size]
