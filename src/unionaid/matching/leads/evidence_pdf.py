"""The evidence of an accepted lead as a PDF (数据比对核验单), attached to the application it
starts under the material the matched record stands for, so the worker need not bring that
certificate.

ReportLab draws it: Chinese text in STSong-Light, the Adobe-GB1 CID font every PDF reader
ships (nothing embedded, so the file stays a few kilobytes), lines wrapped to the page width
and carried on to a new page when they run past the bottom.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

FONT = "STSong-Light"
WIDTH, HEIGHT = A4
MARGIN = 50
SIZE, LEADING, TITLE_SIZE = 11, 17, 16

pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _wrap(text: str, width: float) -> list[str]:
    """``text`` cut into lines no wider than ``width`` points (a character at a time: Chinese
    has no spaces to break at)."""
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        current = ""
        for char in paragraph:
            if current and pdfmetrics.stringWidth(current + char, FONT, SIZE) > width:
                lines.append(current)
                current = ""
            current += char
        lines.append(current)
    return lines


def evidence_pdf(title: str, lines: list[str]) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=0, invariant=True)
    canvas.setTitle(title)
    canvas.setFont(FONT, TITLE_SIZE)
    canvas.drawString(MARGIN, HEIGHT - MARGIN, title)
    y = HEIGHT - MARGIN - 2 * LEADING
    canvas.setFont(FONT, SIZE)
    for line in (part for text in lines for part in _wrap(text, WIDTH - 2 * MARGIN)):
        if y < MARGIN:
            canvas.showPage()
            canvas.setFont(FONT, SIZE)
            y = HEIGHT - MARGIN
        canvas.drawString(MARGIN, y, line)
        y -= LEADING
    canvas.save()
    return out.getvalue()
