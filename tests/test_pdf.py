"""PDF extraction: page numbers, cleaning, references, and bad PDFs."""

from __future__ import annotations

import pytest

from paperlens.ingest.errors import IngestError
from paperlens.ingest.pdf import extract_pdf, parse_pdf_bytes, pdf_sections
from tests.fixtures.pdfs import (
    DASHED_TABLE_ROWS,
    EQUATION_LINES,
    EXAMPLE_LINES,
    FIGURE_PROSE,
    NARROW_TABLE_PROSE,
    NARROW_TABLE_ROWS,
    PLOT_CAPTION,
    PLOT_LABELS,
    TABLE_ROWS,
    TWO_COLUMN_STAMP,
    TWO_COLUMN_TITLE,
    dashed_table_pdf,
    encrypt,
    figure_pdf,
    make_pdf,
    narrow_table_pdf,
    paper_pdf,
    table_pdf,
    two_column_pdf,
)


def test_text_round_trips_with_page_numbers():
    pdf = extract_pdf(paper_pdf(), max_pages=50)
    sections = pdf_sections(pdf)
    by_page = {s.page: s.text for s in sections}
    assert "rolling cache keeps the sink tokens" in by_page[2]
    assert "four million tokens" in by_page[3]
    assert pdf.arxiv_id == "2309.17453"
    assert pdf.title == "Attention Sinks for Streaming Models"
    assert all(s.kind == "pdf" for s in sections)


def test_wrapped_lines_join_and_hyphenation_is_mended():
    text = extract_pdf(paper_pdf(), max_pages=50).pages[2]
    assert "recurrent cache" in text
    assert (
        "Window attention fails once the first tokens leave the cache."
        in extract_pdf(paper_pdf(), max_pages=50).pages[0]
    )


def test_running_headers_and_page_numbers_are_dropped():
    pages = extract_pdf(paper_pdf(), max_pages=50).pages
    assert not any("Preprint. Under review." in p for p in pages)
    assert not any(line.strip().isdigit() for p in pages for line in p.splitlines())


def test_references_are_not_answerable_passages():
    pdf = extract_pdf(paper_pdf(), max_pages=50)
    sections = pdf_sections(pdf)
    assert pdf.references_from_page == 4
    assert max(s.page for s in sections) == 4
    assert "Attention sinks are cheap to keep." in {s.page: s.text for s in sections}[4]
    assert not any("cited paper" in s.text for s in sections)


def test_an_appendix_page_without_appendix_in_its_heading_is_kept_without_figure_letters():
    """After the References, a page with a figure's caption and no reference entries
    is an appendix, whatever its heading (the Transformer paper's "Attention
    Visualizations"); the words its figure draws letter by letter are not text."""
    body = [[f"{n} Section", f"Body text of page {n} about attention heads."] for n in range(1, 5)]
    references = ["References", "[1] A. Author. Some cited paper. 2020."]
    appendix = [
        "Attention Maps",
        "T h e  m o d e l  r e a d s  e v e r y  w o r d  o f  t h e  l i n e",
        "Figure 6: Two heads of the last layer resolve the pronoun to its noun.",
    ]
    pdf = extract_pdf(make_pdf([*body, references, appendix]), max_pages=50)
    by_page = {s.page: s.text for s in pdf_sections(pdf)}
    assert pdf.references_from_page == 5
    assert 5 not in by_page
    assert "resolve the pronoun to its noun" in by_page[6]
    assert "m o d e l" not in by_page[6]


def test_a_plots_labels_are_left_out_and_its_caption_and_a_worked_example_stay():
    """Text drawn inside a figure (ticks, axis titles, legend) says nothing as a
    passage; the caption and a figure made of sentences are read."""
    page = extract_pdf(figure_pdf(), max_pages=5).pages[0]
    assert FIGURE_PROSE in page
    assert PLOT_CAPTION in page
    assert " ".join(EXAMPLE_LINES) in " ".join(page.split())
    for label in PLOT_LABELS:
        assert label not in page.replace(PLOT_CAPTION, "").replace(FIGURE_PROSE, "")


def test_a_tables_rows_with_dashes_for_missing_values_are_rows():
    """A dash is a cell that reports no value: a row of mostly dashes is still a row,
    and so are the rows around it."""
    lines = extract_pdf(dashed_table_pdf(), max_pages=5).pages[0].splitlines()
    for cells in DASHED_TABLE_ROWS:
        assert "\t".join(cells) in lines


def test_headings_are_kept_with_their_page():
    sections = pdf_sections(extract_pdf(paper_pdf(), max_pages=50))
    assert {s.page: s.heading for s in sections}[2] == "2 Method"


def test_local_pdf_becomes_one_paper_with_its_arxiv_id(settings):
    doc = parse_pdf_bytes(paper_pdf(), uri="/tmp/sinks.pdf", settings=settings)
    (paper,) = doc.papers
    assert paper.arxiv_id == "2309.17453"
    assert paper.links["pdf"].endswith("2309.17453")
    assert doc.kind == "pdf"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj <<>> garbage", "not a valid PDF"),
        (b"<!DOCTYPE html><html>429 Too Many Requests</html>", r"not a PDF \(got HTML\)"),
        (make_pdf([[]], footer_numbers=False), "no text layer"),
    ],
)
def test_bad_pdfs_get_one_line_reasons(data, reason):
    with pytest.raises(IngestError, match=reason) as info:
        extract_pdf(data, max_pages=50)
    assert "\n" not in str(info.value)


def test_encrypted_and_oversized_pdfs_are_refused():
    with pytest.raises(IngestError, match="encrypted"):
        extract_pdf(encrypt(paper_pdf()), max_pages=50)
    with pytest.raises(IngestError, match="5 pages is over the 3-page limit"):
        extract_pdf(paper_pdf(), max_pages=3)


def test_truncated_pdf(tmp_path):
    data = paper_pdf()
    with pytest.raises(IngestError, match="not a valid PDF|no text layer"):
        extract_pdf(data[: len(data) // 3], max_pages=50)


# ---- a two-column paper laid out like an arXiv PDF ------------------------------------


@pytest.fixture(scope="module")
def two_column():
    pdf = extract_pdf(two_column_pdf(), max_pages=50)
    return pdf, {s.page: s.text for s in pdf_sections(pdf)}


def test_columns_are_read_left_then_right_on_their_page(two_column):
    pdf, by_page = two_column
    left = (
        "The left column explains the method in a sentence that wraps over three "
        "lines of the column before it ends here."
    )
    right = "The right column continues with a second sentence that must come after the left one."
    assert left in by_page[2] and right in by_page[2]
    assert by_page[2].index(left) < by_page[2].index(right)
    assert "quality collapses once the first tokens leave the window" in by_page[1]
    assert pdf.two_column_pages == 4


def test_margin_furniture_is_gone(two_column):
    pdf, by_page = two_column
    text = "\n".join(pdf.pages)
    assert "Preprint under review" not in text
    assert "arXiv" not in text
    # Line numbers (1-40 in the margins) and page numbers leave no digits but headings'.
    assert not any(
        ch.isdigit() for line in text.splitlines() if line[:1] not in "0123456789[" for ch in line
    )


def test_ligatures_and_hyphenation_are_mended(two_column):
    _, by_page = two_column
    assert (
        "The first tokens act as attention sinks and a recurrent state is not needed." in by_page[2]
    )
    assert "\ufb01" not in by_page[2] and "recur-" not in by_page[2]


def test_front_matter_comes_from_page_one(two_column):
    pdf, _ = two_column
    assert pdf.title == TWO_COLUMN_TITLE
    assert pdf.authors == ["Ada Lovelace", "Alan Turing"]
    assert pdf.abstract == (
        "We keep a few initial tokens in the cache so that window attention stays "
        "stable on inputs of any length."
    )
    assert pdf.arxiv_id == TWO_COLUMN_STAMP.split(":")[1][:10]


def test_references_are_left_out_and_the_appendix_is_kept(two_column):
    pdf, by_page = two_column
    assert pdf.references_from_page == 3
    assert "Perplexity stays flat" in by_page[3]
    assert "cited paper" not in "\n".join(by_page.values())
    assert "References" not in by_page[3]
    assert by_page[4].startswith("A Extra Experiments")


def test_two_column_paper_parses_to_one_paper(settings):
    doc = parse_pdf_bytes(two_column_pdf(), uri="/tmp/paper.pdf", settings=settings)
    (paper,) = doc.papers
    assert paper.title == TWO_COLUMN_TITLE
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert paper.abstract.startswith("We keep a few initial tokens")
    assert paper.arxiv_id == "2401.01234"


def test_a_narrow_tables_rows_keep_every_cell_and_an_equation_is_not_a_row():
    """Values ~1 em apart (closer than the gap that cuts a run) are cells of their
    own, a thin space inside a number is not a gap, a row's label may set a value,
    and prose of the other column between the rows' baselines splits no row; an
    equation's pieces, apart like cells, stay as they were drawn."""
    page = extract_pdf(narrow_table_pdf(), max_pages=5).pages[0]
    lines = page.splitlines()
    for cells in NARROW_TABLE_ROWS:
        assert "\t".join(cells) in lines
    assert " ".join(NARROW_TABLE_PROSE) in page
    for pieces in EQUATION_LINES:
        assert "\t".join(pieces) not in page
        assert all(piece in page for piece in pieces)


def test_a_table_row_is_one_line_in_order_and_prose_beside_it_is_untouched():
    """A full-width table's left cells would go to the left column and its
    right cells to the right one: each row must stay whole (its cells left to
    right, rows top to bottom), and the columns of prose below it unjoined."""
    page = extract_pdf(table_pdf(), max_pages=5).pages[0]
    lines = page.splitlines()
    rows = ["\t".join(cells) for cells in TABLE_ROWS[1:]]
    assert [lines.index(row) for row in rows] == sorted(lines.index(row) for row in rows)
    assert (
        "The left column describes how the sizes were trained, in a sentence wrapping over three lines of this column."
        in page
    )
    assert (
        "The right column reports that the largest model recalls most, in a sentence that also wraps over three lines."
        in page
    )
    assert page.index("this column.") < page.index("The right column")
