"""Language centering, index choice and FAISS checkpoints."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from paperlens.index.vectors import AnnIndex, IndexSpec, LanguageCentering


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_centering_removes_a_shared_language_direction():
    rng = np.random.default_rng(0)
    topics = rng.standard_normal((60, 32))
    korean, french = rng.standard_normal(32) * 3, rng.standard_normal(32) * 3
    # The same 60 topics written in two languages: a strong per-language offset.
    vectors = _unit(np.vstack([topics + korean, topics + french]))
    langs = ["ko"] * 60 + ["fr"] * 60
    query = _unit((topics[7] + korean)[None])  # a Korean query about topic 7

    centering = LanguageCentering.fit(vectors, langs)
    centered = centering.apply(vectors, langs)
    best = np.argsort(-(centered[60:] @ centering.apply(query, ["ko"])[0]))[0]

    assert best == 7  # the French passage on the same topic
    assert np.allclose(np.linalg.norm(centered, axis=1), 1.0, atol=1e-5)


def test_small_libraries_are_left_as_they_are():
    vectors = _unit(np.random.default_rng(1).standard_normal((10, 8)))
    centering = LanguageCentering.fit(vectors, ["en"] * 10)
    assert np.allclose(centering.apply(vectors, ["en"] * 10), vectors, atol=1e-6)


def test_centering_survives_catalog_rows():
    vectors = _unit(np.random.default_rng(2).standard_normal((200, 8)))
    langs = ["ja"] * 100 + [None] * 100
    centering = LanguageCentering.fit(vectors, langs)
    loaded = LanguageCentering.from_rows(centering.to_rows(), 8)
    assert np.allclose(loaded.apply(vectors, langs), centering.apply(vectors, langs))


def test_running_sums_give_the_same_centering_as_a_fit():
    vectors = _unit(np.random.default_rng(3).standard_normal((300, 8)))
    langs = ["ko"] * 100 + ["fr"] * 150 + [None] * 50
    sums = {}
    for lang in ("ko", "fr", None):
        rows = vectors[[i for i, x in enumerate(langs) if x == lang]]
        sums[lang or ""] = (len(rows), rows.sum(axis=0))
    fitted = LanguageCentering.fit(vectors, langs)
    summed = LanguageCentering.from_sums(sums, 8)
    assert fitted.drift(summed) < 1e-5
    assert np.allclose(fitted.apply(vectors, langs), summed.apply(vectors, langs), atol=1e-5)


def test_index_type_follows_library_size():
    assert IndexSpec.for_size(10_000).kind == "flat"
    big = IndexSpec.for_size(1_000_000)
    assert big.kind == "hnsw-sq8" and big.m >= 16 and big.ef_search >= 32
    assert IndexSpec.from_json(big.to_json()) == big


def _earlier_ivf(spec: IndexSpec, dim: int, seq: int) -> AnnIndex:
    """An IVF-SQ8 index as earlier versions built them (they still load)."""
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, spec.nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.own_fields = True
    quantizer.this.disown()
    return AnnIndex(index, spec, seq)


@pytest.mark.parametrize(
    "spec", [IndexSpec("ivf-sq8", nlist=4, nprobe=4), IndexSpec("hnsw-sq8", m=8, ef_search=16)]
)
def test_checkpoint_round_trip_and_idempotent_replay(tmp_path, spec):
    vectors = _unit(np.random.default_rng(4).standard_normal((50, 16)))
    if spec.kind == "ivf-sq8":
        ann = _earlier_ivf(spec, 16, seq=7)
    else:
        ann = AnnIndex.empty(spec, 16, seq=7)
    ann.train(vectors)
    ids = np.arange(50, dtype=np.int64)
    ann.upsert(ids, vectors, remove=ids)
    ann.upsert(ids[:10], vectors[:10], remove=ids[:10])  # replaying twice changes nothing
    assert ann.ntotal == 50
    ann.save(tmp_path / "v.faiss", {"build": 1})
    assert AnnIndex.load(tmp_path / "v.faiss", {"build": 2}) is None  # another build's file
    loaded = AnnIndex.load(tmp_path / "v.faiss", {"build": 1})
    assert loaded.seq == 7 and loaded.spec == spec and loaded.ntotal == 50
    _, found = loaded.search(vectors[:5], 1)
    assert found[:, 0].tolist() == [0, 1, 2, 3, 4]
    assert not list(tmp_path.glob(".*.tmp"))  # no temp files left behind


def test_hnsw_removals_are_never_returned_and_survive_a_checkpoint(tmp_path):
    vectors = _unit(np.random.default_rng(5).standard_normal((400, 16)))
    ann = AnnIndex.empty(IndexSpec("hnsw-sq8", m=8, ef_search=32), 16)
    ann.train(vectors)
    ids = np.arange(1000, 1400, dtype=np.int64)
    ann.upsert(ids, vectors, remove=np.zeros(0, np.int64))
    gone = ids[::2]
    ann.upsert(np.zeros(0, np.int64), np.zeros((0, 16), np.float32), remove=gone)
    ann.upsert(gone[:3], vectors[1:4], remove=gone[:3])  # re-added with new vectors
    assert ann.ntotal == 203
    _, found = ann.search(vectors[::2], 10)
    assert not set(found.ravel().tolist()) & set(gone[3:].tolist())
    _, nearest = ann.search(vectors[1:4], 2)
    assert {int(gone[0]), int(ids[1])} <= set(nearest[0].tolist())  # both now hold vector 1
    ann.save(tmp_path / "v.faiss", {})
    loaded = AnnIndex.load(tmp_path / "v.faiss", {})
    assert loaded.ntotal == 203
    assert (loaded.search(vectors[::2], 10)[1] == found).all()
