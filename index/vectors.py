"""FAISS indexes derived from the catalog, and the language centering they use.

The catalog (SQLite) is the commit point; a FAISS file is a checkpoint of it,
stamped with the catalog change-log position (`seq`) it reflects. Opening
loads the checkpoint and replays the log after `seq` (see index/sync.py), so
a file that lags behind the catalog is caught up, not rebuilt.

Which index: exact inner product (flat) below `FLAT_LIMIT` vectors; above it
an HNSW graph over 8-bit scalar-quantized vectors (a quarter of the memory of
flat). IVF partitioning lost too much on real passage embeddings (recall@10
0.80 at the usual nprobe: short ML sentences sit in a narrow cone and a
query's neighbours spread over many lists), HNSW keeps >= 0.95 (docs/scale.md#figures).
FAISS HNSW cannot remove vectors, so removals are tombstones filtered at
search time; `paperlens reindex --index-only` compacts them. Training the
quantizer (per-dimension ranges) is part of an explicit full build (first
build, `paperlens reindex`), never a search-path surprise; IVF-SQ8 indexes
built by earlier versions still load.
"""

from __future__ import annotations

import io
import json
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

FLAT_LIMIT = 50_000  # exact search stays under ~20 ms below this on 2 busy cores
# HNSW: 32 neighbours per node, a 64-long candidate list per query (raised to k):
# recall@10 0.97 on real passage embeddings (bench/bench_scale.py).
HNSW_M = 32
HNSW_EF_SEARCH = 64
HNSW_EF_CONSTRUCTION = 40

# Searches are single queries: OpenMP's spinning threads cost more than they
# give (flat top-200 over 100k: 150 ms with 2 threads vs 37 ms with 1 on the
# shared 2-core box). Full builds raise it for their duration (`build_threads`).
faiss.omp_set_num_threads(1)


@contextmanager
def build_threads() -> Iterator[None]:
    """All cores for a bulk build (training, adding), back to one afterwards."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


@dataclass(frozen=True)
class IndexSpec:
    """Index type and parameters, recorded in the catalog manifest."""

    kind: str = "flat"  # "flat" | "hnsw-sq8" | "ivf-sq8" (earlier versions)
    nlist: int = 0  # IVF lists
    nprobe: int = 0  # IVF lists scanned per query
    m: int = 0  # HNSW neighbours per node
    ef_search: int = 0  # HNSW candidate list per query (at least k)

    @classmethod
    def for_size(cls, n: int, flat_limit: int = FLAT_LIMIT) -> IndexSpec:
        if n < flat_limit:
            return cls()
        return cls("hnsw-sq8", m=HNSW_M, ef_search=HNSW_EF_SEARCH)

    @classmethod
    def ivf_for_size(cls, n: int) -> IndexSpec:
        """The IVF-SQ8 index earlier versions built (kept to compare in bench/)."""
        nlist = 1 << round(math.log2(2 * math.sqrt(n)))  # ~2 sqrt(n): 2048 at 1M
        return cls("ivf-sq8", nlist, max(16, nlist // 24))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IndexSpec:
        return cls(**json.loads(text))

    def new_index(self, dim: int) -> faiss.Index | TombstonedHNSW:
        if self.kind == "flat":
            return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if self.kind == "hnsw-sq8":
            return TombstonedHNSW.empty(dim, self.m, self.ef_search)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, self.nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        index.own_fields = True
        quantizer.this.disown()
        return index

    @property
    def needs_training(self) -> bool:
        return self.kind != "flat"

    @property
    def training_size(self) -> int:
        return 40 * self.nlist if self.nlist else 100_000  # SQ8 ranges need no more


class TombstonedHNSW:
    """HNSW (8-bit codes) with passage ids, and removals as tombstones.

    FAISS's HNSW has no `remove_ids` and no ids of its own: position i of the
    graph is our i-th added vector, `ids[i]` its passage id, `alive[i]` whether
    it still counts. A removal clears `alive`; searches pass the live set as an
    `IDSelectorBitmap`, so dead vectors still route the graph walk but are never
    returned. A re-added id gets a new position. Speaks the subset of the FAISS
    index interface `AnnIndex` uses.
    """

    def __init__(self, hnsw: faiss.Index, ids: np.ndarray, alive: np.ndarray, ef: int) -> None:
        self.hnsw, self.ef = hnsw, ef
        self.ids = ids.astype(np.int64)
        self.alive = alive.astype(bool)
        self.position = {int(i): p for p, i in enumerate(self.ids) if self.alive[p]}
        self._bitmap: np.ndarray | None = None

    @classmethod
    def empty(cls, dim: int, m: int, ef: int) -> TombstonedHNSW:
        hnsw = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        return cls(hnsw, np.zeros(0, np.int64), np.zeros(0, bool), ef)

    @property
    def ntotal(self) -> int:
        return len(self.position)

    @property
    def dead(self) -> int:
        return len(self.ids) - len(self.position)

    def train(self, vectors: np.ndarray) -> None:
        self.hnsw.train(vectors)

    def add_with_ids(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self.remove_ids(ids)  # an id lives at one position at most
        start = len(self.ids)
        self.hnsw.add(vectors)
        self.ids = np.concatenate([self.ids, ids])
        self.alive = np.concatenate([self.alive, np.ones(len(ids), bool)])
        self.position.update({int(i): start + n for n, i in enumerate(ids)})
        self._bitmap = None

    def remove_ids(self, ids: np.ndarray) -> None:
        for i in ids.tolist():
            position = self.position.pop(int(i), None)
            if position is not None:
                self.alive[position] = False
                self._bitmap = None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._bitmap is None:
            self._bitmap = np.packbits(self.alive, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(self._bitmap), faiss.swig_ptr(self._bitmap))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef, k))
        scores, positions = self.hnsw.search(queries, k, params=params)
        found = positions >= 0
        ids = np.where(found, self.ids[np.where(found, positions, 0)], -1)
        return scores, ids

    def serialize(self) -> np.ndarray:
        buffer = io.BytesIO()
        np.savez(buffer, hnsw=faiss.serialize_index(self.hnsw), ids=self.ids, alive=self.alive)
        return np.frombuffer(buffer.getvalue(), dtype=np.uint8)

    @classmethod
    def read(cls, path: Path, ef: int) -> TombstonedHNSW:
        with np.load(path) as data:
            hnsw = faiss.deserialize_index(data["hnsw"])
            return cls(hnsw, data["ids"], data["alive"], ef)


class AnnIndex:
    """One FAISS index in memory with the log position it reflects; thread-safe.

    FAISS indexes are not safe to search while another thread adds to them,
    so searches and updates take one lock; both are short (ms).
    """

    def __init__(self, index: faiss.Index, spec: IndexSpec, seq: int) -> None:
        self.index = index
        self.spec = spec
        self.seq = seq
        self._lock = threading.Lock()
        if spec.kind == "ivf-sq8":
            faiss.extract_index_ivf(index).nprobe = spec.nprobe

    @classmethod
    def empty(cls, spec: IndexSpec, dim: int, seq: int = 0) -> AnnIndex:
        return cls(spec.new_index(dim), spec, seq)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def train(self, vectors: np.ndarray) -> None:
        if self.spec.needs_training and len(vectors):
            self.index.train(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) like faiss, k clipped to the index size."""
        with self._lock:
            k = min(k, self.ntotal)
            if k <= 0:
                n = len(queries)
                return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
            return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def upsert(self, ids: np.ndarray, vectors: np.ndarray, remove: np.ndarray) -> None:
        """Remove `remove` ids (idempotent), then add (ids, vectors): a replay step."""
        with self._lock:
            if len(remove):
                self.index.remove_ids(np.asarray(remove, dtype=np.int64))
            if len(ids):
                self.index.add_with_ids(
                    np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, np.int64)
                )

    def save(self, path: Path, stamp: dict) -> None:
        """Checkpoint: serialize under the lock, write outside it, stamp last.

        A crash between the two renames leaves a stamp older than the file;
        replaying from it is harmless because replay is idempotent.
        """
        with self._lock:
            if isinstance(self.index, TombstonedHNSW):
                data = self.index.serialize()
            else:
                data = faiss.serialize_index(self.index)
            stamp = {**stamp, "seq": self.seq, "spec": asdict(self.spec)}
        write_atomic(path, lambda tmp: data.tofile(tmp))
        write_atomic(_stamp_path(path), lambda tmp: tmp.write_text(json.dumps(stamp)))

    @classmethod
    def load(cls, path: Path, stamp: dict) -> AnnIndex | None:
        """The checkpoint at `path` if its stamp matches `stamp` (model, build...)."""
        try:
            found = json.loads(_stamp_path(path).read_text())
            if {k: found.get(k) for k in stamp} != stamp:
                return None
            spec = IndexSpec(**found["spec"])
            if spec.kind == "hnsw-sq8":
                index = TombstonedHNSW.read(path, spec.ef_search)
            else:
                index = faiss.read_index(str(path))
        except (OSError, ValueError, RuntimeError, KeyError, TypeError):
            return None
        return cls(index, spec, int(found["seq"]))


def _stamp_path(path: Path) -> Path:
    return path.with_suffix(".json")


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temp file in the same folder, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
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
    queries it lifts dense recall@5 from 0.58 to 0.79 (docs/retrieval.md#first-stage).

    The means are computed from per-language running sums the catalog keeps
    (`from_sums`) and frozen into the index build; `drift` says how far the
    current means have moved from the frozen ones.
    """

    PRIOR = 20  # pseudo-count pulling a rare language's mean towards the global mean
    MIN_PASSAGES = 100  # below this the means describe content more than language: no-op

    def __init__(self, means: dict[str, np.ndarray], global_mean: np.ndarray) -> None:
        self.means = means
        self.global_mean = global_mean

    @classmethod
    def fit(cls, vectors: np.ndarray, langs: list[str | None]) -> LanguageCentering:
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        sums: dict[str, tuple[int, np.ndarray]] = {}
        for lang in set(langs):
            rows = vectors[[i for i, x in enumerate(langs) if x == lang]]
            sums[lang or ""] = (len(rows), rows.sum(axis=0))
        return cls.from_sums(sums, dim)

    @classmethod
    def from_sums(cls, sums: dict[str, tuple[int, np.ndarray]], dim: int) -> LanguageCentering:
        """From {language ("" = unknown): (count, vector sum)}."""
        total = sum(n for n, _ in sums.values())
        if total < cls.MIN_PASSAGES:
            return cls({}, np.zeros(dim, np.float32))
        global_mean = sum(s for _, s in sums.values()) / total
        means = {
            lang: ((s + cls.PRIOR * global_mean) / (n + cls.PRIOR)).astype(np.float32)
            for lang, (n, s) in sums.items()
            if lang and n > 0
        }
        return cls(means, global_mean.astype(np.float32))

    def mean_for(self, lang: str | None) -> np.ndarray:
        return self.means.get(lang or "", self.global_mean)

    def drift(self, current: LanguageCentering) -> float:
        """Largest shift of any language's mean (or the global one) between two centerings."""
        langs = set(self.means) | set(current.means)
        shifts = [float(np.linalg.norm(self.global_mean - current.global_mean))]
        shifts += [float(np.linalg.norm(self.mean_for(x) - current.mean_for(x))) for x in langs]
        return max(shifts)

    def apply(self, vectors: np.ndarray, langs: list[str | None]) -> np.ndarray:
        if not len(vectors):
            return vectors
        if not self.global_mean.any() and not self.means:
            return np.ascontiguousarray(vectors, dtype=np.float32)
        shifted = vectors - np.vstack([self.mean_for(lang) for lang in langs])
        return _normalize(shifted)

    def to_rows(self) -> list[tuple[str, bytes]]:
        """(language, mean) rows for the catalog; "*" is the global mean."""
        rows = [("*", self.global_mean.astype(np.float32).tobytes())]
        return rows + [(k, v.astype(np.float32).tobytes()) for k, v in self.means.items()]

    @classmethod
    def from_rows(cls, rows: list[tuple[str, bytes]], dim: int) -> LanguageCentering:
        arrays = {k: np.frombuffer(v, dtype=np.float32) for k, v in rows}
        global_mean = arrays.pop("*", np.zeros(dim, np.float32))
        return cls(arrays, global_mean)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)
