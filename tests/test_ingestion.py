"""Ingestor: embed_passages batches by length and answers in input order; what an
ingest lost is kept with its source."""

from __future__ import annotations

import numpy as np


def test_vectors_come_back_in_input_order_for_mixed_lengths(ingestor, embedder):
    texts = [
        "a long passage about attention sinks " * 12,
        "short",
        "a medium passage on rotary position embeddings and caches",
        "short",  # a duplicate is embedded once and answered twice
        "x",
    ]
    ingestor.settings.embed_batch_size = 2
    vectors = ingestor.embed_passages(texts)
    expected = np.vstack([embedder.embed_passages([t]) for t in texts])
    assert vectors.shape == expected.shape
    assert np.allclose(vectors, expected, atol=1e-4)


# Written for this test: two entries link papers, two link only code and a talk.
DIGEST = """# Reading notes, week 12

1. **Sparse mixtures for long inputs** - routes each token to two of eight experts. [paper](https://arxiv.org/abs/2401.04088)
2. **A cache that keeps attention sinks** - the first tokens stay in the window. [paper](https://arxiv.org/abs/2309.17453)
3. **Our lab's new fine-tuning toolkit** - a library we released this week. [code](https://github.com/example/toolkit)
4. **A talk on evaluation habits** - recorded at a meetup. [video](https://www.youtube.com/watch?v=abc123)
"""


def test_digest_entries_that_link_no_paper_are_named_in_the_library_tab(
    ingestor, library, tmp_path
):
    from paperlens.assistant.ui.library import SOURCE_HEADERS, source_rows

    digest = tmp_path / "week12.md"
    digest.write_text(DIGEST, encoding="utf-8")
    report = ingestor.ingest([str(digest)], pdfs=False)
    assert [o.status for o in report.outcomes] == ["ingested"]
    [row] = source_rows(library)
    problems = row[SOURCE_HEADERS.index("Problems")]
    assert "2 of 4 entries link no paper" in problems
    assert (
        "Our lab's new fine-tuning toolkit" in problems
        and "A talk on evaluation habits" in problems
    )
    assert "Sparse mixtures" not in problems


# Written for this test: prose long enough to be cut into several passages.
FACTS = [
    "The encoder stack has six identical layers, each with two sub-layers.",
    "Warmup lasts for the first four thousand optimizer steps of training.",
    "Label smoothing of one tenth hurts perplexity but raises the BLEU score.",
    "Beam search keeps four hypotheses and applies a length penalty of 0.6.",
    "Dropout of one tenth is applied to every sub-layer output before the sum.",
    "Checkpoints written every ten minutes are averaged for the final model.",
]


def test_pdf_pages_are_cut_finer_than_digest_entries(ingestor, store, tmp_path):
    from tests.fixtures.pdfs import make_pdf

    pdf = tmp_path / "paper.pdf"
    lines = ["Attention Sinks for Streaming Models", "arXiv:2309.17453v2 [cs.CL] 7 Apr 2024"]
    pdf.write_bytes(make_pdf([lines + FACTS * 3]))
    entry = " ".join(FACTS) + (
        " The digest adds that it reads well on long inputs and that the authors"
        " share their code, weights, evaluation scripts and the full logs of every"
        " training run they describe."
    )
    digest = tmp_path / "week13.md"
    digest.write_text(
        f"# Week 13\n\n1. **Mixture routing** - {entry} [paper](https://arxiv.org/abs/2401.04088)\n",
        encoding="utf-8",
    )
    assert 600 < len(entry) < 700  # one digest passage, but more than one PDF passage

    report = ingestor.ingest([str(pdf), str(digest)], pdfs=False)

    assert [o.status for o in report.outcomes] == ["ingested", "ingested"]
    pages = [p for p in store.paper_passages("arxiv:2309.17453") if p.kind == "pdf"]
    assert len(pages) >= 3
    # Each PDF passage is shorter than the digest entry that stays one passage.
    assert max(len(p.text) for p in pages) < len(entry), [len(p.text) for p in pages]
    [digest_passage] = store.paper_passages("arxiv:2401.04088")
    assert FACTS[0] in digest_passage.text and FACTS[-1] in digest_passage.text
