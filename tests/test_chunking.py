"""Sections -> passages: offsets point back into the section, and no passage is a bare
heading or a column's tail."""

from paperlens.ingest.chunking import MIN_CHUNK_CHARS, split_section, split_text
from paperlens.ingest.config import Settings
from paperlens.ingest.documents import Section

PARAGRAPH = " ".join(
    f"The encoder layer number {i} mixes tokens with attention." for i in range(14)
)


def test_a_heading_is_read_with_the_paragraph_it_heads():
    text = f"4.2 Intersective scoring\n{PARAGRAPH}\n{PARAGRAPH}"
    chunks = split_text(text, chunk_chars=700, overlap=80)
    assert chunks[0].text.startswith("4.2 Intersective scoring\nThe encoder layer number 0")
    assert all(len(c.text) >= MIN_CHUNK_CHARS for c in chunks)


def test_a_short_tail_joins_the_passage_before_it():
    text = f"{PARAGRAPH}\n{PARAGRAPH}\nsee Table 3 for"
    chunks = split_text(text, chunk_chars=700, overlap=80)
    assert chunks[-1].text.endswith("see Table 3 for")
    assert all(len(c.text) >= MIN_CHUNK_CHARS for c in chunks)


def test_offsets_point_back_into_the_section_text():
    text = f"Results\n{PARAGRAPH}\nShort line.\n{PARAGRAPH}\nEnd."
    for chunk in split_text(text, chunk_chars=500, overlap=60):
        assert text[chunk.start : chunk.end] == chunk.text


def test_a_short_section_stays_whole():
    assert [c.text for c in split_text("A title only", chunk_chars=700, overlap=80)] == [
        "A title only"
    ]


def test_a_pdf_page_keeps_no_piece_shorter_than_its_bar_while_other_text_keeps_short_ones():
    tail = "The ablation on the next page repeats this with four seeds and two sizes."
    tail = f"{tail} {tail}"  # a page's last 150 characters
    text = f"{PARAGRAPH}\n{tail}"
    settings = Settings(pdf_chunk_chars=450, pdf_chunk_overlap=60, pdf_min_chunk_chars=250)

    loose = split_text(text, chunk_chars=450, overlap=60)
    page = split_section(Section(kind="pdf", text=text, page=3), settings)

    assert loose[-1].text == tail  # alone, as any text but a PDF page keeps it
    assert page[-1].text.endswith(tail) and len(page[-1].text) > len(tail)
    assert all(len(c.text) >= 250 for c in page), [len(c.text) for c in page]
    assert all(text[c.start : c.end] == c.text for c in page)


def test_a_heading_on_a_pdf_page_starts_a_passage_and_the_tail_before_it_stays_behind():
    before = "The retrieved keys match the query in most of the examples we looked at. " * 4
    tail = "and the last ones were no better than chance."  # a column's end
    after = "We see uses beyond retrieval, such as keeping output to trusted text. " * 4
    text = f"{before}\n{tail}\n7 Discussion\n{after}"
    settings = Settings(pdf_chunk_chars=450, pdf_chunk_overlap=60, pdf_min_chunk_chars=250)

    page = split_section(Section(kind="pdf", text=text, page=9), settings)

    assert page[0].text.endswith(tail)
    assert page[1].text.startswith("7 Discussion")
    assert all(text[c.start : c.end] == c.text for c in page)


def test_a_heading_too_short_to_stand_alone_joins_the_section_it_opens():
    body = "Each layer reads the output of the one below and adds its own update. " * 4
    text = f"{body}\n3 Method\n3.1 Layers\n{body}"
    settings = Settings(pdf_chunk_chars=450, pdf_chunk_overlap=60, pdf_min_chunk_chars=250)

    page = split_section(Section(kind="pdf", text=text, page=2), settings)

    assert [c.text.split("\n")[0] for c in page] == [body.strip(), "3 Method"]
    assert "3.1 Layers" in page[1].text
