"""Sections -> passages: offsets point back into the section, and no passage is a bare
heading or a column's tail."""

from paperlens.ingest.chunking import MIN_CHUNK_CHARS, split_text

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
