"""Reports' pages (Jinja templates, times as people read them) and the PDFs made from a
report's own HTML (WeasyPrint), so that the two read the same.

The page is laid out for print by its ``@page`` and ``@media print`` rules. Everything a
report shows is inside its HTML (inline SVG, images as ``data:`` URLs): the renderer is
allowed to fetch nothing else, neither files of this machine nor anything on the network.

WeasyPrint's import tells Pillow to accept truncated images, for the whole process; that
would let a cut-off upload through (``faces.images`` refuses those), so it is undone at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from PIL import ImageFile

from vigil.errors import VigilError
from vigil.timetext import TimeText

if TYPE_CHECKING:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher


def templates(times: TimeText, *packages: str) -> Environment:
    """The templates of the packages (their ``templates`` folders, the first one's first),
    HTML escaped, with the filters ``when`` (a time as people read it) and ``day``."""
    environment = Environment(
        loader=ChoiceLoader([PackageLoader(p, "templates") for p in packages]),
        autoescape=select_autoescape(["html"]),
    )
    environment.filters["when"] = times
    environment.filters["day"] = times.day
    return environment


def _weasyprint() -> tuple[type[HTML], type[URLFetcher]]:
    """WeasyPrint's document and fetcher classes, imported (Pango loads in 0.4 s) without
    changing how Pillow treats truncated images."""
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML  # noqa: PLC0415
        from weasyprint.urls import URLFetcher  # noqa: PLC0415
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return HTML, URLFetcher


def pdf_from_html(html: str | bytes, title: str) -> bytes:
    """The page as a PDF document titled ``title``."""
    document_class, fetcher = _weasyprint()

    # Its warnings are about CSS it skips in matplotlib's SVG, not about the document.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    inline_only = fetcher(allowed_protocols=("data",), fail_on_errors=False)
    document = document_class(string=text, url_fetcher=inline_only, media_type="print").render()
    document.metadata.title = title
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):  # None only when given a file to write to
        raise VigilError("the PDF renderer wrote nothing")
    return pdf
