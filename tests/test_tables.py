"""A piece of a PDF table carries its caption and column names (ingest/tables.py)."""

from __future__ import annotations

from paperlens.index.ingestion import doc_passages
from paperlens.ingest.pdf import parse_pdf_bytes
from paperlens.ingest.tables import holds_rows, row_names, table_context
from tests.fixtures.pdfs import TABLE_CAPTION, table_pdf

PAGE = "\n".join(
    [
        "4 Results",
        "We compare the three sizes on recall and latency below.",
        "Model Params Recall",
        "M acc",
        "Heron-S\t0.4\t61.2",
        "Heron-M\t1.6\t66.8",
        "(B)",
        "Kestrel-L\t7.0\t72.5",
        "Table 2: Recall of the three model sizes.",
        "The largest model recalls most, as the scaling section predicts.",
    ]
)


def _span(text: str) -> tuple[int, int]:
    start = PAGE.index(text)
    return start, start + len(text)


def test_later_rows_get_the_caption_below_and_the_column_lines_above():
    context = table_context(PAGE, *_span("Kestrel-L\t7.0\t72.5"))

    assert context == "Table 2: Recall of the three model sizes. / Model Params Recall M acc"


def test_a_piece_that_holds_its_caption_and_columns_gets_nothing_more():
    start, _ = _span("Model Params Recall")
    _, end = _span("Table 2: Recall of the three model sizes.")

    assert table_context(PAGE, start, end) is None


def test_text_outside_tables_gets_no_context():
    assert table_context(PAGE, *_span("We compare the three sizes")) is None
    assert table_context(PAGE, *_span("The largest model recalls most")) is None


def test_a_caption_above_the_table_is_found_when_none_is_below():
    page = "Table 1: Sizes.\nModel Params\nA\t1\t2\nB\t3\t4\n\nThe text goes on here."
    start = page.index("B\t3")

    assert table_context(page, start, start + 5) == "Table 1: Sizes. / Model Params"


def test_passages_of_a_long_table_carry_its_caption_and_columns_in_their_header(settings):
    doc = parse_pdf_bytes(table_pdf(extra_rows=40), uri="/tmp/t.pdf", settings=settings)

    passages = doc_passages(doc, settings, lambda _paper_id: None)

    middle = [p for p in passages if "Osprey-" in p.text and "Model\t" not in p.text]
    middle = [p for p in middle if TABLE_CAPTION not in p.text]
    prose = [p for p in passages if "The left column describes" in p.text]
    assert middle and prose
    for passage in middle:
        assert TABLE_CAPTION in passage.header
        assert "Model Params Recall Latency Memory Score" in passage.header
    assert TABLE_CAPTION not in prose[0].header


def test_the_generator_reads_a_table_piece_under_its_caption_and_columns(library, ingestor):
    from paperlens.assistant.chat import ask
    from paperlens.assistant.llm import OpenAICompatibleLLM
    from tests.fixtures.fake_openai import FakeOpenAI

    doc = parse_pdf_bytes(table_pdf(extra_rows=40), uri="/tmp/t.pdf", settings=library.settings)
    ingestor.ingest_doc(doc)
    with FakeOpenAI("Osprey-15 scores 65.1 [1].") as server:
        llm = OpenAICompatibleLLM(server.base_url, model="fake", api_key=None, timeout=5)
        ask(library, "What does Osprey-15 score on recall?", lang="en", llm=llm, k=3)
    prompt = server.requests[0]["messages"][-1]["content"]
    block = next(b for b in prompt.split("\n\n[") if "Osprey-15\t" in b)
    assert TABLE_CAPTION not in block.split("Osprey-15")[1]  # the rows lack it...
    assert f"Table: {TABLE_CAPTION}" in block  # ...and it comes above them
    assert "Model Params Recall Latency Memory Score" in block


def test_a_tables_rows_are_read_by_their_names_and_prose_is_left_whole():
    assert holds_rows(PAGE) and not holds_rows("Heron-S\t0.4\t61.2\nplain text")
    assert row_names(PAGE).splitlines() == [
        "4 Results",
        "We compare the three sizes on recall and latency below.",
        "Model Params Recall",
        "M acc",
        "Heron-S",
        "Heron-M",
        "(B)",
        "Kestrel-L",
        "Table 2: Recall of the three model sizes.",
        "The largest model recalls most, as the scaling section predicts.",
    ]
    assert row_names("3 B\t32\t2560\n7 B\t32\t4096") == "3 B\n7 B"  # a name with a number
    assert row_names("0.4\t61.2\t3\n1.6\t66.8\t4") == ""  # rows of numbers alone
