"""Answers show how relevant each cited passage is, and say so when evidence is weak."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlens.assistant.chat import ask
from paperlens.index.library import Library
from paperlens.ingest.config import Settings

# The threshold is calibrated on a library of some size; the bundled samples are one.
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def samples(tmp_path_factory, embedder):
    """Ingested once for the module: embedding the samples takes a while on 2 cores."""
    settings = Settings(home=tmp_path_factory.mktemp("samples-home"))
    library = Library(settings, show_progress=False)
    library.__dict__["embedder"] = embedder
    library.ingest([str(SAMPLES)], pdfs=False)
    return library


def test_citations_carry_passage_ids_scores_and_relevance(samples):
    answer = ask(samples, "How does LoRA reduce the number of trained parameters?", llm=None)

    assert answer.citations
    first = answer.citations[0]
    assert first.passage_id is not None and first.score is not None
    assert first.relevance is not None and first.relevance > 0.25
    assert not any("weak evidence" in w for w in answer.warnings)


def test_an_answer_built_on_weak_evidence_says_so(samples):
    answer = ask(samples, "a good recipe for pizza dough with mozzarella", llm=None)

    assert any(w.startswith("weak evidence") for w in answer.warnings)
