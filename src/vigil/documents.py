"""PDFs made from a report's own HTML (WeasyPrint), so that the two read the same.

The page is laid out for print by its ``@page`` and ``@media print`` rules. Everything a
report shows is inside its HTML (inline SVG, images as ``data:`` URLs): the renderer is
allowed to fetch nothing else, neither files of this machine nor anything on the network.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from vigil.errors import VigilError

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher


def _inline_only() -> URLFetcher:
    from weasyprint.urls import URLFetcher  # noqa: PLC0415 - Pango loads in 0.4 s

    return URLFetcher(allowed_protocols=("data",), fail_on_errors=False)


def pdf_from_html(html: str | bytes, title: str) -> bytes:
    """The page as a PDF document titled ``title``."""
    from weasyprint import HTML  # noqa: PLC0415 - see above

    # Its warnings are about CSS it skips in matplotlib's SVG, not about the document.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    document = HTML(string=text, url_fetcher=_inline_only(), media_type="print").render()
    document.metadata.title = title
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):  # None only when given a file to write to
        raise VigilError("the PDF renderer wrote nothing")
    return pdf
