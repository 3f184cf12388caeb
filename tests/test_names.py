"""A question about a paper the library lacks is abstained on, even when its neighbours
are there: no paper found mentions the name it asks about (DoRA next to LoRA)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlens.assistant.chat import ask
from paperlens.assistant.checks.names import named_terms, unknown_names
from paperlens.assistant.relevance import names_not_found
from paperlens.assistant.ui.render import hits_table
from paperlens.index.library import Library
from paperlens.ingest.config import Settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("What does KTO optimise instead of preferences?", ["KTO"]),
        ("Self-RAG는 어떤 토큰을 쓰나요?", ["Self-RAG"]),
        ("phi-1 und Zephyr-7B auf HumanEval?", ["phi-1", "Zephyr-7B", "HumanEval"]),
        ("How much CO2 did the 540B model emit in 2D or 3x3 runs?", ["CO2"]),  # sizes are not
        ("Wie gut sind die OPT-Modelle im Zero-Shot-Setting?", ["OPT-Modelle"]),
        ("What did OpenAI's paper say about the Transformer?", ["OpenAI"]),
        ("Quelle est la taille du modèle ?", []),
        ("WHAT IS LORA AND GPT-4?", ["GPT-4"]),  # shouted: capitals name nothing
        ("RAG란?", ["RAG"]),
        ("単純なRAGを使う4KコンテキストのLLMは?", ["RAG", "LLM"]),  # acronyms, not shouting
    ],
)
def test_names_are_acronyms_and_model_names_not_sizes_or_capitalised_words(question, names):
    assert named_terms(question) == names


PAPER = [
    "Flash Attention: fast exact attention with IO-awareness",
    "We train LLMs with byte pair encoding and report 12 tCO2e; self attention is quadratic.",
    "GPT-4o and Llama 2 are compared. The RAG baseline retrieves passages.",
    "Llama3-8B and Llama 3.1 follow; Qwen2.5 is the base; Gemini 1.0 Pro and 1.5 Flash.",
]


@pytest.mark.parametrize(
    "question",
    [
        "How fast is FlashAttention?",  # spelled apart in the paper
        "Which LLM was trained?",  # the paper's plural
        "How much CO2 was emitted?",  # inside the paper's unit
        "Was GPT4o compared?",  # joined where the paper hyphenates
        "Is Llama 2 open?",  # a version after a space
        "Omniglot 1-shot, Llama 2は?",  # a count, not a version; a particle after one
        "What does Table 3 show?",  # the papers never number tables: an ordinary word
        "What is the BPE vocabulary?",  # the words it abbreviates, in a passage found
        "Wie schnell sind die Llama-2-Modelle?",  # a compound of the question's language
        "Was zeigt die IO-Awareness-Analyse?",  # a name the papers write, then a German word
        "Is there a RAG-Paper?",
        "Was Llama 3.1 at ICLR 2024?",  # where a paper appeared is not checked
        "Is Qwen 2.5 the base?",
        "Was Gemini 1.5 used?",  # listed after another version of the same name
        "ＢＰＥの語彙とＬＬＭは？",  # full-width letters, as Japanese keyboards type them
    ],
)
def test_a_name_the_papers_mention_in_another_spelling_is_known(question):
    assert unknown_names(question, PAPER, PAPER[1:2]) == []


def test_a_name_whose_letters_are_words_of_the_papers_is_known_inside_a_compound():
    question = "Wie viele Proposals trainieren den R-CNN-Klassifikator?"  # seen in a real ask
    assert unknown_names(question, ["We train the R-CNN classifier on 200 proposals."], []) == []


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("Self-RAG는 어떤 토큰을 쓰나요?", ["Self-RAG"]),  # RAG and "self" are known, apart
        ("How does KTO differ from RAG?", ["KTO"]),
        ("Is phi-1 better than Llama-4?", ["phi-1", "Llama-4"]),
        ("What is the LLaMA Rag", []),  # case does not matter
        ("Is GPT-4 better?", ["GPT-4"]),  # another version than GPT-4o
        ("Is Llama 3.2 or Qwen 3 better?", ["Llama 3.2", "Qwen 3"]),  # minor, joined family
    ],
)
def test_a_name_no_paper_mentions_is_unknown(question, unknown):
    assert unknown_names(question, PAPER, PAPER[1:2]) == unknown


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("OPT-30Bのヘッド数は?", []),  # the family's name, and a size its table lists
        ("Wie viele Schichten hat OPT-20B?", ["OPT-20B"]),  # a size the paper never lists
        ("Is Zephyr-7B better?", ["Zephyr-7B"]),  # a size the paper lists, another family
        ("Is OPT-IML better?", ["OPT-IML"]),  # a variant's name is no size
    ],
)
def test_a_family_and_a_size_its_paper_lists_apart_are_known(question, unknown):
    paper = ["OPT: open pre-trained transformers", "Model #L #H\n7B\t32\t32\n30B\t48\t56"]
    assert unknown_names(question, paper, paper[1:]) == unknown


@pytest.fixture(scope="module")
def samples(tmp_path_factory, embedder):
    """The bundled samples: LoRA is there, DoRA (its successor) is not."""
    library = Library(Settings(home=tmp_path_factory.mktemp("names")), show_progress=False)
    library.__dict__["embedder"] = embedder
    library.ingest([str(SAMPLES)], pdfs=False)
    return library


def test_a_question_about_a_missing_paper_next_to_a_present_one_is_abstained_on(samples):
    answer = ask(samples, "DoRA는 LoRA의 가중치 업데이트를 어떻게 바꾸나요?", llm=None)

    assert answer.abstained and answer.mode == "no-results"
    assert answer.unknown_names == ["DoRA"]
    assert "DoRA" in answer.text and "논문" in answer.text  # said in Korean
    assert "Low-Rank Adaptation" in answer.text  # the closest paper found, named
    assert answer.citations == []


def test_a_question_about_a_present_paper_is_answered(samples):
    answer = ask(samples, "LoRA는 학습할 파라미터 수를 어떻게 줄이나요?", llm=None)

    assert not answer.abstained and answer.unknown_names == []
    assert any("LoRA" in c.title for c in answer.citations)


def test_the_check_can_be_turned_off(samples, monkeypatch):
    monkeypatch.setattr(samples.settings, "abstain_on_unknown_names", False)

    answer = ask(samples, "DoRA는 LoRA의 가중치 업데이트를 어떻게 바꾸나요?", llm=None)

    assert not answer.abstained and answer.citations


def test_search_says_which_names_no_result_mentions(samples):
    hits = samples.searcher.search("DoRA weight decomposition", k=5)

    assert names_not_found(samples, "DoRA weight decomposition", hits) == ["DoRA"]
    assert "No result mentions DoRA" in hits_table(hits, ["DoRA"])
    assert names_not_found(samples, "LoRA low-rank adapters", hits) == []


def test_a_pasted_list_of_names_is_checked_only_for_its_first_dozen():
    question = "Compare " + ", ".join(f"Model{n}X" for n in range(40))

    assert len(unknown_names(question, PAPER, PAPER[1:2])) == 12
