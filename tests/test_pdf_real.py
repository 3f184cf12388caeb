"""Real arXiv PDFs as published (../shared/corpus/real/pdfs): skipped when absent.

Expected text is derived from the PDFs at test time (pdfium text by
rectangle), never copied into the repo; titles, ids and page counts come from
the corpus manifest.
"""

from __future__ import annotations

import json
import re
from functools import cache

import pypdfium2 as pdfium
import pytest

from paperlens.ingest.documents import normalize_title
from paperlens.ingest.pdf import PdfText, extract_pdf, pdf_sections
from tests.fixtures.corpus import REAL_PDFS

REAL = REAL_PDFS
pytestmark = pytest.mark.skipif(
    not (REAL / "manifest.json").exists(), reason="real PDF corpus not present"
)
MANIFEST = (
    json.loads((REAL / "manifest.json").read_text())["papers"]
    if (REAL / "manifest.json").exists()
    else []
)


@cache
def extracted(name: str) -> PdfText:
    return extract_pdf(REAL / name, max_pages=200)


def words(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


@pytest.mark.parametrize("paper", MANIFEST, ids=[p["file"] for p in MANIFEST])
def test_metadata_pages_and_stamp(paper):
    pdf = extracted(paper["file"])
    expected = normalize_title(re.sub(r"\s*\(\w+\)$", "", paper["title"]))
    assert normalize_title(pdf.title).startswith(expected)
    assert pdf.arxiv_id == paper["arxiv_id"]
    assert len(pdf.pages) == paper["pages"]
    assert f"arXiv:{paper['arxiv_id']}" not in pdf.pages[0]
    assert pdf.authors and pdf.abstract and len(pdf.abstract.split()) > 60
    sections = pdf_sections(pdf)
    assert not any(
        re.fullmatch(r"(\d+\.?\s*)?references", line.strip(), re.I)
        for s in sections
        for line in s.text.splitlines()
    )


def raw_page(name: str, page: int, rect: tuple[float, float, float, float] | None = None) -> str:
    document = pdfium.PdfDocument(REAL / name)
    try:
        textpage = document[page - 1].get_textpage()
        if rect is None:
            return textpage.get_text_range()
        width, height = document[page - 1].get_size()
        x0, y0, x1, y1 = rect
        return textpage.get_text_bounded(x0 * width, y0 * height, x1 * width, y1 * height)
    finally:
        document.close()


def test_attention_abstract_references_and_appendix():
    name = "1706.03762.pdf"
    pdf = extracted(name)
    assert pdf.title == "Attention Is All You Need"
    assert pdf.arxiv_id == "1706.03762"
    # The abstract starts with the words that follow the "Abstract" heading.
    after = raw_page(name, 1).split("Abstract", 1)[1]
    assert words(pdf.abstract).startswith(" ".join(words(after).split()[:8]))
    # No text of the first reference entry reaches a passage.
    references = re.split(r"^References\s*$", raw_page(name, pdf.references_from_page), flags=re.M)
    first_entry = " ".join(words(references[1]).split()[1:9])
    assert first_entry
    sections = pdf_sections(pdf)
    assert not any(first_entry in words(s.text) for s in sections)
    # The reference list's own pages are left out; the appendix after it (attention
    # maps, pages 13-15, under a heading that names no "Appendix") is kept.
    pages = {s.page for s in sections}
    assert {11, 12}.isdisjoint(pages)
    assert {13, 14, 15} <= pages
    assert "anaphora" in " ".join(s.text for s in sections if s.page == 14)


def test_two_column_sentences_stay_whole_and_in_order():
    """ResNet page 3: the left column's sentences are intact and come before the right's."""
    name = "resnet.pdf"
    page_text = {s.page: words(s.text) for s in pdf_sections(extracted(name))}[3]

    def column_sentences(x0: float, x1: float) -> list[str]:
        text = raw_page(name, 3, (x0, 0.07, x1, 0.93)).replace("\x02", "")
        parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", re.sub(r"\s+", " ", text))
        return [w for p in parts if len((w := words(p)).split()) >= 10]

    left, right = column_sentences(0.065, 0.5), column_sentences(0.5, 0.935)
    assert len(left) >= 5 and len(right) >= 5
    found_left = [page_text.find(s) for s in left if s in page_text]
    found_right = [page_text.find(s) for s in right if s in page_text]
    assert len(found_left) >= 0.8 * len(left) and len(found_right) >= 0.8 * len(right)
    assert max(found_left) < min(found_right)
