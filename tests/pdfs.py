"""What a PDF says and shows, read with pypdf: its text per page and its images."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, whitespace folded to single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def pdf_images(data: bytes) -> int:
    """How many different raster images the document holds (pages may share one)."""
    pages = PdfReader(io.BytesIO(data)).pages
    return len({image.data for page in pages for image in page.images})


def pdf_title(data: bytes) -> str | None:
    metadata = PdfReader(io.BytesIO(data)).metadata
    return None if metadata is None else metadata.title
