"""A completion certificate as a one-page PDF (reportlab), carrying its verification code."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

# Names are written as given (Polish, Irish, Welsh...): a font with wide Latin coverage is
# embedded. Debian's fonts-dejavu-core (a dependency of fontconfig, so of Chromium) has it.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
ACCENT = HexColor("#1d4f91")
INK = HexColor("#1b1b1b")
PAGE = landscape(A4)
# The code is also written into the document's metadata, where a check can find it again.
SUBJECT_PREFIX = "Completion certificate, verification code "
CODE_IN_DOCUMENT = re.compile(
    re.escape(SUBJECT_PREFIX.encode("ascii")) + rb"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})"
)


class FontMissing(Exception):
    pass


@dataclass(frozen=True)
class Facts:
    """What a certificate states; every field is signed."""

    code: str
    enrolment_id: str
    first_name: str
    reference: str
    programme_id: str
    programme_title: str
    version: int
    completed_at: datetime
    force_id: str
    force_name: str
    issued_at: datetime


@cache
def _fonts() -> None:
    for name in (REGULAR, BOLD):
        path = FONT_DIR / f"{name}.ttf"
        if not path.exists():
            raise FontMissing(f"{path} is missing: install the Debian package fonts-dejavu-core")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def code_in(document: bytes) -> str | None:
    """The verification code written into a certificate's metadata, if there is one."""
    match = CODE_IN_DOCUMENT.search(document)
    return match.group(1).decode("ascii") if match else None


def _centred(canvas: Canvas, text: str, *, y: float, font: str, size: float, width: float) -> float:
    """Draw `text` centred on the page, wrapped to `width`; answers the y below it."""
    canvas.setFont(font, size)
    for line in simpleSplit(text, font, size, width):
        canvas.drawCentredString(PAGE[0] / 2, y, line)
        y -= size * 1.3
    return y


def render(facts: Facts, *, verify_url: str, zone: str) -> bytes:
    """The certificate; `verify_url` is where staff check it (also in the QR code)."""
    _fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=PAGE, pageCompression=1, invariant=True)
    canvas.setTitle(f"Certificate of completion {facts.code}")
    canvas.setAuthor(facts.force_name)
    canvas.setSubject(f"{SUBJECT_PREFIX}{facts.code}")
    canvas.setCreator("Intervention Kiosk sync server")
    width, height = PAGE
    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.8)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    local = facts.completed_at.astimezone(ZoneInfo(zone))
    when = f"{local:%d %B %Y} at {local:%H:%M} ({zone})"
    # (text, font, size, space above in mm, colour)
    lines = [
        (facts.force_name, BOLD, 14, 0, ACCENT),
        ("Certificate of completion", BOLD, 32, 6, ACCENT),
        ("This certifies that", REGULAR, 13, 10, INK),
        (facts.first_name, BOLD, 26, 4, INK),
        (f"force reference {facts.reference}", REGULAR, 12, 1, INK),
        ("completed the programme", REGULAR, 13, 9, INK),
        (facts.programme_title, BOLD, 20, 4, INK),
        (f"version {facts.version}, completed on {when}", REGULAR, 12, 1, INK),
    ]
    y = height - 34 * mm
    for text, font, points, space, colour in lines:
        canvas.setFillColor(colour)
        y = _centred(canvas, text, y=y - space * mm, font=font, size=points, width=width - 70 * mm)
    _verification_panel(canvas, facts, verify_url=verify_url, zone=zone)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _verification_panel(canvas: Canvas, facts: Facts, *, verify_url: str, zone: str) -> None:
    width = PAGE[0]
    qr_size = 32 * mm
    widget = QrCodeWidget(verify_url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(
        qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0]
    )
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, width - 24 * mm - qr_size, 22 * mm)
    left = 26 * mm
    canvas.setFont(REGULAR, 10)
    canvas.drawString(left, 48 * mm, "Verification code")
    canvas.setFont(BOLD, 20)
    canvas.drawString(left, 40 * mm, facts.code)
    canvas.setFont(REGULAR, 9)
    issued = facts.issued_at.astimezone(ZoneInfo(zone))
    lines = [
        "Staff can confirm that this certificate is genuine and unaltered by entering the code,",
        f"or uploading this file, at {verify_url.split('?', 1)[0]}",
        f"Issued {issued:%d %B %Y} and signed by the scheme's server.",
    ]
    for i, line in enumerate(lines):
        canvas.drawString(left, (32 - 5 * i) * mm, line)
