"""Language centering and derived FAISS files."""

from __future__ import annotations

import numpy as np

from index.vectors import LanguageCentering, load_or_build


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


def test_centering_survives_a_save_and_load(tmp_path):
    vectors = _unit(np.random.default_rng(2).standard_normal((200, 8)))
    langs = ["ja"] * 100 + [None] * 100
    centering = LanguageCentering.fit(vectors, langs)
    centering.save(tmp_path / "c.npz")
    loaded = LanguageCentering.load(tmp_path / "c.npz")
    assert np.allclose(loaded.apply(vectors, langs), centering.apply(vectors, langs))


def test_derived_index_is_rebuilt_only_when_stale(tmp_path):
    builds = []

    def build():
        builds.append(1)
        return np.arange(3, dtype=np.int64), _unit(np.eye(3, 4, dtype=np.float32) + 0.1)

    path = tmp_path / "v.faiss"
    load_or_build(path, generation=1, model="m", dim=4, build=build)
    load_or_build(path, generation=1, model="m", dim=4, build=build)
    assert len(builds) == 1
    index = load_or_build(path, generation=2, model="m", dim=4, build=build)
    assert len(builds) == 2 and index.ntotal == 3
    assert not list(tmp_path.glob(".*.tmp"))  # no temp files left behind
