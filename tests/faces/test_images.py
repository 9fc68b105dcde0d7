"""Hostile and unusual images: a clear refusal or a correct result, never a crash or a bomb."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vigil.documents import pdf_from_html
from vigil.faces.images import ImageLimits, ImageRejected, load_image, load_image_file


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _png_bomb(width: int, height: int) -> bytes:
    """A valid PNG header declaring width x height grayscale pixels, with almost no data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def _gradient(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    x = np.linspace(0, 255, size[0], dtype=np.uint8)
    rgb = np.stack([np.tile(x, (size[1], 1))] * 3, axis=-1)
    return Image.fromarray(rgb, "RGB").convert(mode)


def test_a_tiny_png_declaring_30000x30000_is_refused_fast_and_small() -> None:
    bomb = _png_bomb(30000, 30000)
    assert len(bomb) < 200
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ImageRejected, match=r"30000x30000|too many pixels"):
        load_image(bomb)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 10 * 1024 * 1024


def test_the_pixel_limit_applies_below_pillows_own() -> None:
    with pytest.raises(ImageRejected, match="pixel limit"):
        load_image(_png_bomb(7000, 7000))
    with pytest.raises(ImageRejected, match="pixel limit"):
        load_image(_encode(_gradient(), "PNG"), ImageLimits(max_pixels=1000))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"this is a text file, not a photo\n", "not a JPEG, PNG, WebP or PGM"),
        (_encode(_gradient(), "JPEG")[:700], "corrupt or truncated"),
        (_encode(_gradient(), "PNG")[:-30], "corrupt or truncated"),
        (_encode(_gradient(), "GIF"), "not a JPEG"),
        (_encode(_gradient(), "BMP"), "not a JPEG"),
        (_encode(_gradient(), "TIFF"), "not a JPEG"),
        (_encode(_gradient(), "PPM"), "only PGM"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a JPEG|corrupt"),
    ],
    ids=["empty", "text", "truncated-jpeg", "truncated-png", "gif", "bmp", "tiff", "ppm", "junk"],
)
def test_bad_files_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ImageRejected, match=message):
        load_image(data, name="upload.jpg")


def test_rendering_a_pdf_report_still_leaves_truncated_images_refused() -> None:
    """WeasyPrint's import switches Pillow to accepting truncated images process-wide."""
    assert pdf_from_html("<p>a report</p>", "a report").startswith(b"%PDF")
    with pytest.raises(ImageRejected, match="corrupt or truncated"):
        load_image(_encode(_gradient(), "JPEG")[:700], name="upload.jpg")


def test_too_many_bytes_are_refused_before_decoding(tmp_path: Path) -> None:
    data = _encode(_gradient(), "PNG")
    with pytest.raises(ImageRejected, match="over the"):
        load_image(data, ImageLimits(max_bytes=len(data) - 1))
    path = tmp_path / "big.png"
    path.write_bytes(data)
    with pytest.raises(ImageRejected, match="over the"):
        load_image_file(path, ImageLimits(max_bytes=10))
    with pytest.raises(ImageRejected, match="cannot read"):
        load_image_file(tmp_path / "missing.png")


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [
        ("JPEG", "RGB"),
        ("JPEG", "L"),
        ("JPEG", "CMYK"),
        ("PNG", "RGB"),
        ("PNG", "RGBA"),
        ("PNG", "P"),
        ("PNG", "L"),
        ("PNG", "LA"),
        ("WEBP", "RGB"),
        ("PPM", "L"),  # written as PGM (P5)
    ],
)
def test_accepted_formats_and_modes_become_rgb(fmt: str, mode: str) -> None:
    loaded = load_image(_encode(_gradient(mode), fmt))
    assert loaded.rgb.dtype == np.uint8
    assert loaded.rgb.shape == (48, 64, 3)
    left, right = loaded.rgb[:, 2].mean(), loaded.rgb[:, -3].mean()
    assert left < 40  # the gradient survives, not inverted or blank
    assert right > 200


def test_cmyk_colours_are_converted_not_inverted() -> None:
    red = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    loaded = load_image(_encode(red, "JPEG", quality=95))
    r, g, b = loaded.rgb.reshape(-1, 3).mean(axis=0)
    assert r > 200
    assert g < 60
    assert b < 60


def test_16_bit_png_is_scaled_to_8_bit() -> None:
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    loaded = load_image(_encode(Image.fromarray(values), "PNG"))
    assert loaded.rgb[0, :, 0].tolist() == [0, 128, 255]


def test_transparent_pixels_become_white() -> None:
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert load_image(_encode(clear, "PNG")).rgb.min() == 255


def test_exif_orientation_is_honoured() -> None:
    image = _gradient(size=(60, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    loaded = load_image(_encode(image, "JPEG", exif=exif.tobytes()))
    assert (loaded.width, loaded.height) == (20, 60)
    assert loaded.format == "JPEG"
