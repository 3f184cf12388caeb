"""The Python API (`assistant.api.Paperlens`): the CLI's typed results, from code."""

from __future__ import annotations

import pytest

from paperlens.assistant.api import Paperlens
from paperlens.assistant.rag import Answer
from paperlens.ingest.errors import PaperlensError
from tests.fixtures.fake_openai import FakeOpenAI
from tests.fixtures.papers import all_sources


@pytest.fixture
def lens(library, ingestor) -> Paperlens:
    for source in all_sources():
        ingestor.ingest_doc(source)
    return Paperlens(library, generator="none")


def test_open_creates_a_library_in_the_given_folder_and_ingests_files(tmp_path, embedder):
    digest = tmp_path / "weekly.md"
    digest.write_text(
        "# Papers of the week\n\n"
        "## Layer Normalization\n"
        "Normalizes over the neurons of one example rather than over the batch.\n"
        "https://arxiv.org/abs/1607.06450\n",
        encoding="utf-8",
    )
    lens = Paperlens.open(tmp_path / "home", arxiv_delay_seconds=0.0)
    lens.library.__dict__["embedder"] = embedder  # the session's model, loaded once
    report = lens.ingest(str(digest), pdfs=False)
    assert report.to_json()["ingested"] == 1
    assert lens.stats()["papers"] == 1
    assert (tmp_path / "home" / "catalog.sqlite").exists()


def test_open_rejects_unknown_settings_with_a_message(tmp_path):
    with pytest.raises(PaperlensError, match="unknown setting.*colour"):
        Paperlens.open(tmp_path, colour="blue")


def test_search_returns_one_hit_per_paper_best_first(lens):
    hits = lens.search("레이어 정규화 평균 분산", k=3)
    assert hits[0].arxiv_id == "1607.06450"
    assert [h.rank for h in hits] == [1, 2, 3]
    assert len({h.paper_id for h in hits}) == len(hits)


def test_search_in_one_language_keeps_only_its_passages(lens):
    hits = lens.search("low-rank adaptation of language models", k=5, lang="ja")
    assert hits and all(h.lang == "ja" for h in hits)
    assert hits[0].arxiv_id == "2106.09685"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_unknown_search_mode_is_a_user_error(lens):
    with pytest.raises(PaperlensError, match="unknown mode"):
        lens.search("lora", mode="magic")


def test_papers_filter_by_text_and_language(lens):
    assert [p.arxiv_id for p in lens.papers("ring attention")] == ["2310.01889"]
    assert {p.arxiv_id for p in lens.papers(lang="fr")} == {"2106.09685", "1707.06347"}
    assert len(lens.papers()) == 5


def test_similar_needs_exactly_one_of_paper_or_text(lens):
    assert all(r.paper.arxiv_id != "2309.17453" for r in lens.similar("2309.17453", k=2))
    with pytest.raises(PaperlensError, match="not both"):
        lens.similar("2309.17453", text="attention")
    with pytest.raises(PaperlensError):
        lens.similar()


def test_ask_without_a_generator_quotes_cited_passages_that_resolve(lens):
    answer = lens.ask("LoRA는 무엇을 학습하나요?")
    assert isinstance(answer, Answer)
    assert answer.mode == "extractive" and answer.lang == "ko"
    cited = answer.citations[0]
    assert cited.arxiv_id == "2106.09685"
    evidence = lens.passage(cited.passage_id)
    assert evidence.paper_id == cited.paper_id and evidence.text == cited.passage


def test_ask_and_summarize_through_an_openai_compatible_endpoint(library, ingestor):
    for source in all_sources():
        ingestor.ingest_doc(source)
    reply = "LoRA는 사전학습된 가중치를 고정하고 저랭크 행렬만 학습합니다 [1]."
    with FakeOpenAI(reply) as server:
        settings = library.settings.model_copy(
            update={"llm_base_url": server.base_url, "llm_model": "m", "llm_api_key": "k"}
        )
        library.settings = settings
        lens = Paperlens(library)
        answer = lens.ask("LoRA는 무엇을 학습하나요?", lang="ko")
        summary = lens.summarize("2106.09685", lang="ko")
    assert answer.mode == "llm" and answer.model == "m" and answer.lang == "ko"
    assert answer.citations and answer.citations[0].arxiv_id == "2106.09685"
    assert summary.lang == "ko" and summary.citations


def test_a_missing_passage_is_a_user_error(lens):
    with pytest.raises(PaperlensError, match="no passage 999999"):
        lens.passage(999999)
