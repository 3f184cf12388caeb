"""The focus stage: every passage of the best papers is read, papers keep their order."""

from __future__ import annotations

import numpy as np
import pytest

from paperlens.index.focus import FocusSettings, focus, with_read_forms, without_own_terms
from paperlens.index.hits import Passage
from paperlens.index.library import Library
from paperlens.index.rerank import Candidate
from paperlens.ingest.config import Settings
from paperlens.ingest.pdf import parse_pdf_bytes
from paperlens.ingest.tables import row_names
from tests.fixtures.corpus import REAL_PDFS
from tests.fixtures.papers import all_sources
from tests.fixtures.pdfs import make_pdf

# Passages 1-4 belong to paper "a" (in reading order), 10-11 to paper "b".
PAPER_OF = {1: "a", 2: "a", 3: "a", 4: "a", 10: "b", 11: "b"}
ORDER = {"a": [1, 2, 3, 4], "b": [10, 11]}
# What the reranker would say of every passage, candidates or not.
SCORES = {1: 0.50, 2: 0.30, 3: 0.72, 4: 0.20, 10: 0.60, 11: 0.40}


def stored(texts: dict[int, str], kind: str = "pdf") -> list[Passage]:
    """One paper's passages as the store gives them, in reading order."""
    return [
        Passage(pid, "paper", 1, kind, "en", n + 1 if kind == "pdf" else None, text, 0, len(text))
        for n, (pid, text) in enumerate(texts.items())
    ]


def run(
    ids: list[int], settings: FocusSettings, bm25: dict[int, float] | None = None
) -> tuple[list[int], list[float]]:
    def score(query, candidates):
        return np.array([SCORES[c.passage_id] for c in candidates])

    ranked, scores = focus(
        "a question",
        np.array(ids),
        np.array([SCORES[i] for i in ids], dtype=np.float32),
        PAPER_OF,
        lambda paper: stored({pid: f"text {pid}" for pid in ORDER[paper]}),
        lambda pids: [Candidate(pid, "t", f"text {pid}") for pid in pids],
        score,
        settings,
        lambda: bm25 or {},
    )
    return ranked.tolist(), scores.tolist()


def test_off_by_default_the_ranking_is_untouched():
    assert run([10, 1, 11], FocusSettings()) == ([10, 1, 11], pytest.approx([0.6, 0.5, 0.4]))


def test_a_passage_that_was_no_candidate_becomes_the_papers_best_and_the_paper_keeps_its_score():
    ranked, scores = run([10, 1, 11], FocusSettings(papers=2))
    assert ranked.index(3) < ranked.index(1)  # passage 3 now speaks for paper "a"
    by_id = dict(zip(ranked, scores, strict=True))
    assert by_id[3] == pytest.approx(0.5)  # paper "a" still scores 0.5, below "b"
    assert ranked[0] == 10 and set(ranked) == {1, 2, 3, 4, 10, 11}


def test_only_the_best_papers_are_read_in_full():
    ranked, _ = run([10, 1, 11], FocusSettings(papers=1))
    assert set(ranked) == {10, 1, 11}  # paper "a" is second: its passages are not added


def test_neighbours_lift_a_passage_next_to_a_strong_one():
    ranked, _ = run([1], FocusSettings(papers=1, neighbour_weight=1.0))
    # 2 sits between 1 (0.50) and 3 (0.72): 0.30 + 0.72 beats 1's 0.50 + 0.30
    assert ranked.index(2) < ranked.index(1)


def test_a_share_of_bm25_lifts_the_passage_that_shares_the_questions_terms():
    bm25 = {1: 9.0, 3: 1.0}  # passage 1 holds the question's rare terms
    assert run([1], FocusSettings(papers=1))[0][0] == 3
    assert run([1], FocusSettings(papers=1, lexical_weight=0.5), bm25)[0][0] == 1


# A paper whose name, "Lanterns", is on most of its passages; passage 22 gives the
# number of rounds without naming the method.
LANTERN_TEXTS = {
    20: "Lanterns are boosted trees attached to the columns of a table.",
    21: "Lanterns forecast sales; Lanterns are averaged per table.",
    22: "Each tree is trained for 37 rounds with a shrinkage of 0.08.",
    23: "We thank the reviewers of the Lanterns paper.",
}


def lantern_score(query: str, candidates) -> np.ndarray:
    """A bi-encoder's habit: naming the method counts, and so does the asked detail;
    a note of thanks answers nothing."""
    named = "lanterns" in query.lower()
    return np.array(
        [
            0.6 * (named and "Lanterns" in c.text)
            + 0.5 * ("rounds" in c.text)
            - 0.2 * ("thank" in c.text)
            for c in candidates
        ]
    )


def focus_one_paper(
    query: str, texts: dict[int, str], score, settings: FocusSettings, kind: str = "pdf"
) -> tuple[list[int], list[float]]:
    """The focus stage over one paper of `texts`, its first passage the one candidate
    (scored 0.9): the ranking and scores it gives."""
    first = next(iter(texts))
    ranked, scores = focus(
        query,
        np.array([first]),
        np.array([0.9], dtype=np.float32),
        dict.fromkeys(texts, "paper"),
        lambda paper: stored(texts, kind),
        lambda pids: [Candidate(pid, "t", texts[pid]) for pid in pids],
        score,
        settings,
    )
    return ranked.tolist(), scores.tolist()


LANTERNS_QUESTION = "How many rounds are Lanterns trained for?"


def run_lanterns(settings: FocusSettings, kind: str = "pdf") -> int:
    """The passage that speaks for the Lanterns paper, its passages being of `kind`."""
    return focus_one_paper(LANTERNS_QUESTION, LANTERN_TEXTS, lantern_score, settings, kind)[0][0]


def test_the_papers_own_terms_stop_lifting_the_passages_that_merely_name_it():
    assert run_lanterns(FocusSettings(papers=1)) == 20  # the name (0.6) beats the detail (0.5) ...
    assert run_lanterns(FocusSettings(papers=1, own_terms_weight=0.5)) == 22  # ... no longer


def test_the_shortened_questions_scores_count_at_the_full_questions_spread():
    # Without its own terms the question tells the passages apart on a narrow band
    # (0.30-0.34): taken as they come, those scores could barely move the blend.
    full = {20: 0.70, 21: 0.60, 22: 0.55, 23: 0.50}
    shortened = {20: 0.30, 21: 0.30, 22: 0.34, 23: 0.30}

    def score(query, candidates):
        table = full if "Lanterns" in query else shortened
        return np.array([table[c.passage_id] for c in candidates])

    def top(settings: FocusSettings) -> int:
        return focus_one_paper(LANTERNS_QUESTION, LANTERN_TEXTS, score, settings)[0][0]

    as_they_come = FocusSettings(papers=1, own_terms_weight=0.5, rescale_own_terms=False)
    assert top(as_they_come) == 20
    assert top(FocusSettings(papers=1, own_terms_weight=0.5)) == 22


def test_a_paper_known_from_digest_entries_alone_has_no_own_terms():
    # Each entry of a digest is a note about the paper: its name is what they share.
    with_own_terms = FocusSettings(papers=1, own_terms_weight=0.5)
    assert run_lanterns(with_own_terms, kind="digest") == 20


def test_own_terms_are_the_words_most_of_a_papers_passages_hold():
    texts = list(LANTERN_TEXTS.values())
    assert without_own_terms("How many rounds are Lanterns trained for?", texts, 0.5) == (
        "How many rounds are trained for?"
    )
    # Numbers stay even when common; a word inside a longer word is not cut.
    numbered = ["Lanterns 37", "Lanterns 37", "Lanterns 37", "37"]
    assert without_own_terms("Lanterns 37 Lanternsbau", numbered, 0.5) == "37 Lanternsbau"
    # A paper of two passages (an entry and its abstract) has no own terms.
    assert without_own_terms("Lanterns 37", ["Lanterns", "Lanterns 37"], 0.5) is None
    # A name followed by a Korean particle is still the name.
    assert without_own_terms("Lanterns의 라운드 수는?", texts, 0.5) == "의 라운드 수는?"
    assert without_own_terms("How many rounds?", texts, 0.5) is None  # nothing to remove
    assert without_own_terms("Lanterns?", texts, 0.5) is None  # nothing would be left


# ---- with the real reranker and a PDF -------------------------------------------------

ANSWER_PAGE = 4


def long_paper() -> bytes:
    """A paper whose abstract names its method and whose page 4 holds one detail."""
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
            ["2 Related work", *filler * 4],
            ["3 Data", *filler * 4],
            [
                "4 Training details",
                "Each lantern is trained for exactly 37 rounds with a shrinkage of 0.08,",
                "and the lanterns of one table are averaged with weights set by validation.",
            ],
            ["5 Discussion", *filler * 4],
        ]
    )


def reranked_library(home, embedder, documents, **settings) -> Library:
    """A library of `documents` with the bundled reranker's vectors cached at ingest."""
    settings = Settings(home=home, rerank_model="embeddinggemma-300m", **settings)
    library = Library(settings, show_progress=False)
    library.__dict__["embedder"] = embedder
    if library.reranker is None:
        pytest.skip("the bundled reranker is not installed (make install)")
    from paperlens.index.ingestion import Ingestor

    ingestor = Ingestor(
        library.store,
        embedder,
        settings,
        show_progress=False,
        prepare_rerank=library.prepare_rerank,
    )
    for document in documents(settings):
        ingestor.ingest_doc(document)
    return library


@pytest.fixture(scope="module")
def focused(tmp_path_factory, embedder) -> Library:
    def documents(settings):
        yield from all_sources()
        yield parse_pdf_bytes(long_paper(), uri="mem://lanterns.pdf", settings=settings)

    return reranked_library(
        tmp_path_factory.mktemp("focus"),
        embedder,
        documents,
        rerank_candidates=1,  # the answering passage is then no candidate
    )


@pytest.mark.slow
def test_search_cites_the_page_with_the_answer_when_it_was_no_candidate(focused):
    from paperlens.index.search import Searcher

    base = focused.searcher
    question = "Wie lange und mit welcher Schrumpfung werden Gradient Lanterns trainiert?"
    on = Searcher(
        base.store,
        base.embedder,
        reranker=base.reranker,
        rerank_candidates=1,
        focus_settings=FocusSettings(papers=3),
    )
    off = Searcher(base.store, base.embedder, reranker=base.reranker, rerank_candidates=1)
    found, before = on.search(question, k=3), off.search(question, k=3)
    assert [h.paper_id for h in found] == [h.paper_id for h in before]
    assert found[0].arxiv_id == "2311.04567" and found[0].page == ANSWER_PAGE
    assert "37 rounds" in found[0].passage
    assert before[0].page != ANSWER_PAGE  # without the stage the one candidate is shown


# ---- a real paper: its name is on most pages ------------------------------------------


@pytest.fixture(scope="module")
def reptile(tmp_path_factory, embedder) -> Library:
    """The Reptile paper as published, where "Reptile" names the method on page after page."""
    pdf = REAL_PDFS / "1803.02999.pdf"
    if not pdf.exists():
        pytest.skip("real PDF corpus not present")
    return reranked_library(
        tmp_path_factory.mktemp("reptile"),
        embedder,
        lambda settings: [parse_pdf_bytes(pdf.read_bytes(), uri=str(pdf), settings=settings)],
    )


@pytest.mark.slow
def test_the_page_that_answers_wins_over_the_pages_that_name_the_method(reptile):
    question = "¿Qué valor de β1 usa Reptile con Adam en el bucle interno, y por qué?"
    answer_pages = {
        p.page
        for p in reptile.store.paper_passages(reptile.store.papers()[0].id)
        if "momentum reduced performance" in " ".join(p.text.split())
    }
    assert answer_pages  # the sentence that answers, found in the paper's own text

    assert reptile.searcher.search(question, k=1)[0].page in answer_pages  # the defaults
    # Own terms once made the difference here (without them the algorithm's page won);
    # since every passage's header carries "Reptile" (index/paper_names.py) the name
    # pulls all pages alike. test_the_papers_own_terms_stop_lifting_the_passages_that_
    # merely_name_it shows the stage's effect; this one, the real paper's answer.


# ---- tables read by their row names ---------------------------------------------------

TABLE_TEXTS = {
    30: "Our settings follow the tuning runs described above for both task sizes.",
    31: "Parameter\t5-way\t20-way\nOuter iterations\t100K\t200K\nInner batch size\t10\t20",
}


def test_a_table_is_read_by_its_row_names_and_given_the_offset():
    read: dict[int, str] = {}

    def score(query, candidates):
        read.update({c.passage_id: c.text for c in candidates})
        return np.array([0.5 if c.passage_id == 30 else 0.49 for c in candidates])

    def top(settings: FocusSettings) -> tuple[int, dict[int, float]]:
        question = "How many outer iterations for 20-way?"
        ranked, scores = focus_one_paper(question, TABLE_TEXTS, score, settings)
        return ranked[0], dict(zip(ranked, scores, strict=True))

    assert top(FocusSettings(papers=1))[0] == 30
    assert read[31] == TABLE_TEXTS[31]  # off: the table as it is
    best, scores = top(FocusSettings(papers=1, table_row_names=True, table_offset=0.025))
    assert read[31] == "Parameter 5-way 20-way\nOuter iterations 100K 200K\nInner batch size"
    assert best == 31 and scores[31] == pytest.approx(0.9)  # the paper keeps its score
    assert scores[31] - scores[30] == pytest.approx(0.015)  # 0.49 + 0.025 against 0.5


def test_the_ingest_caches_a_tables_row_names_beside_its_text():
    candidates = [Candidate(pid, "t", text) for pid, text in TABLE_TEXTS.items()]
    on = with_read_forms(candidates, FocusSettings(table_row_names=True))
    assert [(c.passage_id, c.text) for c in on] == [
        *((pid, text) for pid, text in TABLE_TEXTS.items()),
        (31, row_names(TABLE_TEXTS[31])),
    ]
    assert with_read_forms(candidates, FocusSettings()) == candidates


@pytest.mark.slow
def test_a_table_found_by_its_row_names_is_shown_with_its_numbers(reptile):
    hit = reptile.searcher.search("Reptile: outer iterations for 20-way Omniglot?", k=1)[0]
    assert "200K" in hit.passage and "\t" in hit.passage  # the rows as the page has them
