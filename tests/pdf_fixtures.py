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


# ---- a two-column conference paper -------------------------------------------------

TWO_COLUMN_TITLE = "Streaming Attention With Sinks"
TWO_COLUMN_STAMP = "arXiv:2401.01234v2 [cs.CL] 5 Jan 2024"
LEFT_X, RIGHT_X, TOP_Y, LINE = 60, 315, 740, 13


def two_column_pdf() -> bytes:
    """Four A4 pages set like an arXiv conference paper, to test layout handling.

    Page 1: large title and authors across the page, the arXiv stamp rotated
    in the left margin, then two columns (abstract in the left one). Every
    page has a running header, a page number and review line numbers in both
    margins. Lines are drawn left, right, left, right... so a reader that
    follows the content stream interleaves the columns. Page 2 has a "ﬁ"
    ligature (Vera has the glyph) and a hyphenated word; page 3 starts the
    References in its right column; page 4 is an appendix.
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("Vera", "Vera.ttf"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    line_number = 0
    for number, (left, right) in enumerate(_TWO_COLUMN_PAGES, 1):
        pdf.setFont("Helvetica", 8)
        pdf.drawCentredString(297, 810, "Preprint under review at a workshop")
        pdf.drawCentredString(297, 30, str(number))
        top = TOP_Y
        if number == 1:
            pdf.setFont("Helvetica-Bold", 18)
            pdf.drawCentredString(297, 770, TWO_COLUMN_TITLE)
            pdf.setFont("Helvetica", 11)
            pdf.drawCentredString(220, 748, "Ada Lovelace")
            pdf.drawCentredString(375, 748, "Alan Turing")
            pdf.drawCentredString(297, 734, "Analytical Engine Institute")
            pdf.saveState()
            pdf.translate(30, 300)
            pdf.rotate(90)
            pdf.setFont("Helvetica", 14)
            pdf.drawString(0, 0, TWO_COLUMN_STAMP)
            pdf.restoreState()
            top = 700
        for row in range(max(len(left), len(right))):
            y = top - row * LINE
            for x, lines, margin_x in ((LEFT_X, left, 38), (RIGHT_X, right, 560)):
                if row < len(lines):
                    line_number += 1
                    pdf.setFont("Helvetica", 7)
                    pdf.drawString(margin_x, y, str(line_number))
                    text, bold = lines[row]
                    pdf.setFont("Helvetica-Bold" if bold else "Vera", 9)
                    pdf.drawString(x, y, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _t(*lines: str) -> list[tuple[str, bool]]:
    return [(ln, False) for ln in lines]


def _h(line: str) -> list[tuple[str, bool]]:
    return [(line, True)]


_TWO_COLUMN_PAGES = [
    (
        _h("Abstract")
        + _t(
            "We keep a few initial tokens in the cache so",
            "that window attention stays stable on inputs",
            "of any length.",
        )
        + _h("1 Introduction")
        + _t(
            "Language models see ever longer inputs and",
            "their caches grow with every token they read.",
        ),
        _t(
            "A window of recent tokens bounds the cache,",
            "but quality collapses once the first tokens",
            "leave the window during generation.",
        ),
    ),
    (
        _h("2 Method")
        + _t(
            "The left column explains the method in a",
            "sentence that wraps over three lines of the",
            "column before it ends here.",
            "The ﬁrst tokens act as attention sinks and a",
            "recur-",
            "rent state is not needed.",
        ),
        _t(
            "The right column continues with a second",
            "sentence that must come after the left one.",
        ),
    ),
    (
        _h("3 Results") + _t("Perplexity stays flat over four million", "tokens in our runs."),
        _h("References")
        + _t(
            "[1] A. Author. A cited paper about caches.",
            "[2] B. Author. Another cited paper. 2021.",
        ),
    ),
    (
        _h("A Extra Experiments")
        + _t("The appendix reports runs with longer", "windows and the same sinks."),
        _t("More appendix text on the right side of", "the last page of the paper."),
    ),
]
