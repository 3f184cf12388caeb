"""`ask` hands the generator the tables its PDF passages cite ("see Table 2")."""

from __future__ import annotations

from paperlens.assistant.answers import Answer
from paperlens.assistant.chat import ask_stream
from paperlens.assistant.llm import OpenAICompatibleLLM
from paperlens.index.cited_tables import cited_tables
from paperlens.index.hits import Hit, Passage
from paperlens.index.ingestion import Ingestor
from paperlens.index.library import Library
from paperlens.ingest.config import Settings
from paperlens.ingest.pdf import parse_pdf_bytes
from tests.fixtures.fake_openai import FakeOpenAI
from tests.fixtures.pdfs import make_pdf


def passage(pid: int, text: str, paper: str = "arxiv:1", kind: str = "pdf") -> Passage:
    return Passage(pid, paper, 1, kind, "en", pid, text, 0, len(text))


def hit(p: Passage) -> Hit:
    return Hit(p.id, p.paper_id, None, "t", 0.5, p.text, p.id, p.page, "en", p.kind, "s", None)


PAPER = [
    passage(1, "Our sizes are listed in Tables 3 and 2, and Table 9 does not exist."),
    passage(2, "Small\t12\t256\nLarge\t24\t1024\nTable 2: Sizes of the models."),
    passage(3, "Table 3: Training settings.\nSteps\t37"),
    passage(4, "Table 3 continues: warm-up 400 steps."),  # cites, has no caption
]


def test_the_tables_a_passage_cites_are_found_by_their_caption_in_its_order():
    found = cited_tables([hit(PAPER[0])], lambda paper: PAPER, limit=3)
    assert [(at, t.id) for at, t in found] == [(0, 3), (0, 2)]
    assert [t.id for _, t in cited_tables([hit(PAPER[0])], lambda paper: PAPER, 1)] == [3]


def test_tables_already_given_other_papers_and_digest_text_add_nothing():
    given = [hit(PAPER[0]), hit(PAPER[2])]
    assert [t.id for _, t in cited_tables(given, lambda paper: PAPER, 3)] == [2]
    digest = passage(9, "Table 2 of the paper shows sizes.", kind="digest")
    assert cited_tables([hit(digest)], lambda paper: PAPER, 3) == []
    other = passage(8, "As Table 2 shows ...", paper="arxiv:2")
    assert cited_tables([hit(other)], lambda paper: [] if paper == "arxiv:2" else PAPER, 3) == []


def lantern_paper() -> bytes:
    """Prose that cites a table on a later page; the table names no question word."""
    filler = [
        "We describe the experimental setup in general terms and discuss related",
        "systems for tabular forecasting, their datasets and their evaluation protocols.",
    ]
    return make_pdf(
        [
            [
                "Gradient Lanterns for Tabular Forecasting",
                "arXiv:2311.04567v1 [cs.LG] 8 Nov 2023",
                "Abstract. Gradient lanterns are small boosted trees attached to each column",
                "of a table; they forecast sales and stock levels better than a single model.",
            ],
            [
                "3 Models",
                "The lantern sizes we trained are summarized in Table 2; the large lantern",
                "is the one every forecasting experiment in this paper relies on.",
                *filler * 4,
            ],
            ["4 Data", *filler * 4],
            [
                "Variant Trees Depth",
                "Small 12 4",
                "Large 48 9",
                "Table 2: Configurations.",
                *filler * 3,
            ],
        ]
    )


def test_ask_gives_the_generator_the_table_its_best_passage_cites(tmp_path, embedder):
    settings = Settings(home=tmp_path, rerank_model="off", abstain_below=0.0)
    library = Library(settings, show_progress=False)
    library.__dict__["embedder"] = embedder
    Ingestor(library.store, embedder, settings, show_progress=False).ingest_doc(
        parse_pdf_bytes(lantern_paper(), uri="mem://lanterns.pdf", settings=settings)
    )
    question = "Which lantern size does every forecasting experiment rely on?"
    for tables, expected in ((1, True), (0, False)):
        library.settings.ask_cited_tables = tables
        with FakeOpenAI("The large lantern [1].") as server:
            llm = OpenAICompatibleLLM(server.base_url, model="m", api_key=None, timeout=5)
            items = list(ask_stream(library, question, llm=llm, k=1))
        prompt = server.requests[0]["messages"][-1]["content"]
        assert "summarized in Table 2" in prompt  # the one passage asked for
        assert ("Large 48 9" in prompt) is expected  # and the table it cites
        assert isinstance(items[-1], Answer)
