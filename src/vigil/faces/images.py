"""Image input for face analysis: only JPEG, PNG, WebP and PGM, with limits checked first."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from vigil.errors import InvalidInput

# Pillow's plugin names; PGM is read by its PPM plugin and told apart by its magic number.
PLUGINS = ("JPEG", "PNG", "WEBP", "PPM")
PGM_MAGIC = (b"P2", b"P5")
FORMATS = "JPEG, PNG, WebP or PGM"


class ImageRejected(InvalidInput):
    code = "image_rejected"


@dataclass(frozen=True, slots=True)
class ImageLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 40_000_000


@dataclass(frozen=True, slots=True)
class LoadedImage:
    """RGB pixels (height, width, 3) after EXIF orientation, and where they came from."""

    rgb: NDArray[np.uint8]
    format: str

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def load_image_file(path: Path, limits: ImageLimits = ImageLimits()) -> LoadedImage:
    """Read and decode a file, refusing oversized files before reading them."""
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise ImageRejected(f"{path.name}: {size} bytes is over the {limits.max_bytes} limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ImageRejected(f"cannot read {path}: {exc.strerror}") from exc
    return load_image(data, limits, name=path.name)


def load_image(
    data: bytes, limits: ImageLimits = ImageLimits(), *, name: str = "image"
) -> LoadedImage:
    """Decode untrusted bytes; every refusal is an ``ImageRejected`` that says why.

    The pixel count comes from the header and is checked before any pixel is decoded, so a
    small file that declares a huge image (a decompression bomb) never allocates it.
    """
    if not data:
        raise ImageRejected(f"{name} is empty")
    if len(data) > limits.max_bytes:
        raise ImageRejected(f"{name}: {len(data)} bytes is over the {limits.max_bytes} limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=PLUGINS) as image:
                _check_header(image, data, limits, name)
                image.load()
                return LoadedImage(
                    rgb=_to_rgb(ImageOps.exif_transpose(image)), format=_format(image)
                )
    except ImageRejected:
        raise
    except UnidentifiedImageError:
        raise ImageRejected(f"{name} is not a {FORMATS} image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"{name} declares too many pixels: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected(f"{name} is corrupt or truncated: {exc}") from None


def _format(image: Image.Image) -> str:
    return "PGM" if image.format == "PPM" else str(image.format)


def _check_header(image: Image.Image, data: bytes, limits: ImageLimits, name: str) -> None:
    if image.format == "PPM" and data[:2] not in PGM_MAGIC:
        raise ImageRejected(f"{name} is a PBM/PPM image; only PGM of that family is accepted")
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected(f"{name} has no pixels ({width}x{height})")
    if width * height > limits.max_pixels:
        raise ImageRejected(
            f"{name} is {width}x{height} pixels, over the {limits.max_pixels:,} pixel limit"
        )


def _to_rgb(image: Image.Image) -> NDArray[np.uint8]:
    """Grayscale, palette, alpha, CMYK and 16/32-bit images all become 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        gray = np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.stack([gray] * 3, axis=-1))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
