"""FAISS files derived from the catalog: built, stamped, written atomically.

The stamp records the catalog generation and model the file was built from;
a file whose stamp does not match is stale (e.g. a crash between the catalog
commit and the file write) and is rebuilt from the catalog's vectors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

VectorSource = Callable[[], tuple[np.ndarray, np.ndarray]]  # -> (int64 ids, float32 vectors)


def load_or_build(
    path: Path, *, generation: int, model: str, dim: int, build: VectorSource
) -> faiss.IndexIDMap2:
    """The index at `path` if it is current, else a fresh one from `build()`."""
    stamp = path.with_suffix(".json")
    wanted = {"generation": generation, "model": model}
    if path.exists() and stamp.exists():
        try:
            if json.loads(stamp.read_text()) == wanted:
                return faiss.read_index(str(path))
        except (ValueError, RuntimeError):
            pass  # unreadable stamp or index: rebuild below
    ids, vectors = build()
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(vectors, ids)
    write_atomic(path, lambda tmp: faiss.write_index(index, str(tmp)))
    write_atomic(stamp, lambda tmp: tmp.write_text(json.dumps(wanted)))
    return index


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file in the same folder, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class LanguageCentering:
    """Remove each language's mean direction from vectors, then re-normalize.

    Multilingual embeddings carry a strong "which language is this" component:
    a Korean query sits closer to every Korean passage than to the right paper
    described in French. Subtracting each language's mean vector (estimated
    from the library's passages, shrunk towards the global mean for languages
    with few passages) removes most of that component; measured on the dev
    queries it lifts dense recall@5 from 0.58 to 0.79 (see README).
    """

    PRIOR = 20  # pseudo-count pulling a rare language's mean towards the global mean
    MIN_PASSAGES = 100  # below this the means describe content more than language: no-op

    def __init__(self, means: dict[str, np.ndarray], global_mean: np.ndarray) -> None:
        self.means = means
        self.global_mean = global_mean

    @classmethod
    def fit(cls, vectors: np.ndarray, langs: list[str | None]) -> LanguageCentering:
        if len(vectors) < cls.MIN_PASSAGES:
            dim = vectors.shape[1] if vectors.ndim == 2 else 0
            return cls({}, np.zeros(dim, np.float32))
        global_mean = vectors.mean(axis=0)
        means = {}
        for lang in {lang for lang in langs if lang}:
            rows = vectors[[i for i, x in enumerate(langs) if x == lang]]
            means[lang] = (rows.sum(axis=0) + cls.PRIOR * global_mean) / (len(rows) + cls.PRIOR)
        return cls(means, global_mean)

    def mean_for(self, lang: str | None) -> np.ndarray:
        return self.means.get(lang or "", self.global_mean)

    def apply(self, vectors: np.ndarray, langs: list[str | None]) -> np.ndarray:
        if not len(vectors):
            return vectors
        shifted = vectors - np.vstack([self.mean_for(lang) for lang in langs])
        return _normalize(shifted)

    def save(self, path: Path) -> None:
        arrays = {f"lang_{k}": v for k, v in self.means.items()}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as handle:  # a handle: np.savez would append ".npz" to a path
                np.savez(handle, _global=self.global_mean, **arrays)

        write_atomic(path, write)

    @classmethod
    def load(cls, path: Path) -> LanguageCentering:
        with np.load(path) as data:
            means = {k.removeprefix("lang_"): data[k] for k in data.files if k.startswith("lang_")}
            return cls(means, data["_global"])


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
