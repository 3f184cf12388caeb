"""Similar papers: by paper, by text, with reasons; unknown papers get suggestions."""

from __future__ import annotations

import pytest

from paperlens.assistant.similar import (
    PaperNotFound,
    resolve_paper,
    similar_to_paper,
    similar_to_text,
)
from tests.fixtures.papers import all_sources


@pytest.fixture
def filled(library, ingestor):
    for source in all_sources():
        ingestor.ingest_doc(source)
    return library


def test_similar_papers_exclude_the_paper_and_explain_why(filled):
    results = similar_to_paper(filled, "2309.17453", k=3)
    assert 1 <= len(results) <= 3
    assert all(r.paper.arxiv_id != "2309.17453" for r in results)
    assert all(r.why for r in results)
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    assert {"paper_id", "arxiv_id", "title", "score", "url", "why"} <= set(results[0].to_json())


def test_papers_like_a_piece_of_text(filled):
    results = similar_to_text(
        filled, "layer normalization: mean and variance over the neurons of one sample", k=1
    )
    assert results[0].paper.arxiv_id == "1607.06450"


def test_unknown_paper_suggests_close_titles(filled):
    with pytest.raises(PaperNotFound, match="did you mean: Layer Normalization"):
        resolve_paper(filled, "Layer Normalisation")
