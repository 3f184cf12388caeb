"""PDFs generated in the tests (reportlab): known text on known pages."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def make_pdf(
    pages: list[list[str]],
    *,
    title: str | None = None,
    header: str | None = None,
    footer_numbers: bool = True,
) -> bytes:
    """One list of lines per page; optional running header and page-number footer."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    if title:
        pdf.setTitle(title)
    for number, lines in enumerate(pages, 1):
        y = 800
        if header:
            pdf.drawString(72, 820, header)
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 16
        if footer_numbers:
            pdf.drawString(300, 30, str(number))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypt(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def paper_pdf() -> bytes:
    """A small 'paper': title and arXiv stamp, body pages, then References."""
    return make_pdf(
        [
            [
                "Attention Sinks for Streaming Models",
                "arXiv:2309.17453v2 [cs.CL] 7 Apr 2024",
                "1 Introduction",
                "Window attention fails once the first tokens leave the",
                "cache. We keep a few initial tokens as attention sinks and the model stays",
                "stable on very long inputs.",
            ],
            [
                "2 Method",
                "The rolling cache keeps the sink tokens plus a window of recent",
                "tokens. Positions are assigned inside the cache, which makes the approach",
                "compatible with rotary embeddings and with ALiBi.",
            ],
            [
                "3 Results",
                "Perplexity stays flat up to four million tokens with a",
                "recur-",
                "rent cache of only a few thousand entries.",
            ],
            [
                "4 Conclusion",
                "Attention sinks are cheap to keep.",
                "References",
                "[1] A. Author. Some cited paper. 2020.",
            ],
            ["[2] B. Author. Another cited paper. 2021.", "[3] C. Author. More. 2022."],
        ],
        title="Attention Sinks for Streaming Models",
        header="Preprint. Under review.",
    )
