"""The name a paper proposes, read from its abstract, joins its titles."""

from __future__ import annotations

import pytest

from paperlens.index.ingestion import doc_passages
from paperlens.index.paper_names import own_name
from paperlens.ingest.pdf import parse_pdf_bytes
from tests.fixtures.pdfs import make_pdf

TITLE = "Stacked Attention Alone Suffices"


@pytest.mark.parametrize(
    ("abstract", "name"),
    [
        # an appositive after the verb
        (
            "Older models read tokens in order. We propose a lean network, "
            "the Gizmoformer, built from attention layers only.",
            "Gizmoformer",
        ),
        # the name right after the verb, versions and a plus sign kept
        ("We introduce Snapper-2.5, a planner for robot arms.", "Snapper-2.5"),
        ("We present GridRAG+, which adds a map to retrieval.", "GridRAG+"),
        # an acronym after the capitalised words it stands for, connectors allowed
        ("We trained a large model which we call Pebble Language Model (PeLM).", "PeLM"),
        (
            "We introduce Routing Steering via Reward Learning (RSRL), a method for planners.",
            "RSRL",
        ),
        # named before the verb
        ("The family also holds Quokka, a new rule that we introduce here.", "Quokka"),
        ("We propose a tuning method for agents, called Tinker, that needs no labels.", "Tinker"),
    ],
)
def test_the_proposed_name_is_found(abstract, name):
    assert own_name(abstract, TITLE) == name


@pytest.mark.parametrize(
    "abstract",
    [
        None,
        "",
        # nothing proposed by name; a later sentence names a dataset
        "We present a residual framework for deep nets. We also present results on "
        "CIFAR-10 and ImageNet.",
        # an acronym of lower-case words is a term, not the paper's name
        "We propose a kernel that moves data between high bandwidth memory (HBM) and SRAM.",
        # an acronym far from the verb defines a measure
        "We introduce a framework that splits model thinking into two parts, knowledge "
        "and reasoning, measured via a Knowledge Score Index (KSI).",
        # an article, a field, a word that only describes
        "We introduce The Kernel Smith Engine, an agent for kernels.",
        "We introduce AI helpers for chemistry.",
        "We propose LLM-based ranking for search.",
        # another language finds nothing
        "Nous proposons un réseau, le Gizmoformer, fait d'attention seule.",
    ],
)
def test_no_name_when_the_abstract_names_none(abstract):
    assert own_name(abstract, TITLE) is None


def test_no_name_when_a_title_already_says_it():
    abstract = "We propose GIZMO, a way to stack layers."
    assert own_name(abstract, "Gizmo: Layers That Stack / ギズモ") is None
    assert own_name(abstract, "Gizmos and Layers") == "GIZMO"  # a word, not the name


def test_the_name_leads_every_passage_header_of_a_pdf(settings):
    page_one = [
        TITLE,
        "Abstract",
        "Older models read tokens one at a time. We propose a lean network,",
        "the Gizmoformer, built from attention layers only, which trains fast.",
        "1 Introduction",
        "Recurrent models are slow to train on long inputs because each step waits",
        "for the one before it. Our network reads every position at once.",
    ]
    page_two = [
        "2 Training",
        "The learning rate rises for the first 3000 steps and then decays with the",
        "inverse square root of the step number, as in earlier work on translation.",
    ]
    doc = parse_pdf_bytes(make_pdf([page_one, page_two]), uri="/tmp/g.pdf", settings=settings)
    [paper] = doc.papers
    assert "the Gizmoformer" in (paper.abstract or "")

    passages = doc_passages(doc, settings, lambda _paper_id: None)

    assert passages
    assert {p.header for p in passages} == {f"Gizmoformer / {paper.title}"}


def _paper(title: str, abstract: list[str], body: list[str]) -> bytes:
    return make_pdf([[title, "Abstract", *abstract, "1 Introduction", *body]])


def test_a_question_naming_the_method_finds_the_paper_that_proposed_it(library, tmp_path):
    # The proposing paper's title does not say the name; the other paper's does.
    proposer = tmp_path / "proposer.pdf"
    proposer.write_bytes(
        _paper(
            TITLE,
            [
                "Sequence models read tokens one at a time. We propose a lean network,",
                "the Gizmoformer, built from attention layers only.",
            ],
            [
                "Our network reads every position at once, so training is quick.",
                "The learning rate rises for the first 3000 steps, then decays slowly.",
            ],
        )
    )
    user = tmp_path / "user.pdf"
    user.write_bytes(
        _paper(
            "Gizmoformers for Speech Recognition",
            ["We adapt attention networks to audio and report word error rates."],
            [
                "Audio frames are pooled before the encoder to shorten the input.",
                "Word error rates drop on three benchmarks of read and spoken speech.",
            ],
        )
    )
    library.ingest([str(proposer), str(user)], pdfs=False)

    hits = library.searcher.search("Which paper proposed the Gizmoformer network?", k=2)

    assert [h.title for h in hits][0] == TITLE, [h.title for h in hits]
