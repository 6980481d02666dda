"""A PDF the dashboard served, as a picture and as text: headless Chromium shows no PDFs, so
PDFium (pypdfium2) draws the page the way a PDF viewer would."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image

# 72 points an inch, drawn at 144 pixels an inch: legible in the README, not huge.
SCALE = 2
# A pixel darker than this counts as ink (paper is 255, white).
INK_BELOW = 200


def first_page_png(document: bytes, png: Path) -> str:
    """Draw the first page of `document` on white paper to `png`; answer the page's text."""
    pdf = pdfium.PdfDocument(document)
    try:
        page = pdf[0]
        image: Image.Image = page.render(scale=SCALE).to_pil()
        image.save(png, format="PNG", optimize=True)
        text: str = page.get_textpage().get_text_range()
    finally:
        pdf.close()
    return text


def ink(png: Path) -> float:
    """The share of the picture's pixels that are not blank paper."""
    with Image.open(png) as image:
        histogram = image.convert("L").histogram()
    return sum(histogram[:INK_BELOW]) / sum(histogram)
