"""The vector indexes of one data directory: passages and papers, language
centering, drift, builds and checkpoints.

Both indexes are FAISS checkpoints derived from the catalog (index/sync.py):
updated in memory from the change log after each commit, written atomically
now and then, and caught up from the log when opened, never rebuilt whole
unless missing or after an explicit rebuild (`paperlens reindex`, re-centering).

Language centering is frozen into an index build (the `centering` table);
the catalog keeps running per-language sums, and when the current means
drift more than `DRIFT_TOLERANCE` from the frozen ones a small (flat) index
is rebuilt with fresh means; a large one reports the drift in `stats()` and
is re-centered by `rebuild()` / `paperlens reindex`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from paperlens.index.sync import SyncedIndex, Vectors
from paperlens.index.vector_rows import VectorRows, VectorTables
from paperlens.index.vectors import FLAT_LIMIT, AnnIndex, IndexSpec, LanguageCentering

DRIFT_TOLERANCE = 0.02  # largest move of a language mean before a small index is re-centered


class VectorIndex:
    """Passage and paper vectors of one library, searchable, in step with the catalog."""

    def __init__(
        self,
        home: Path,
        tables: VectorTables,
        *,
        model_name: str,
        dim: int,
        center_languages: bool = True,
    ) -> None:
        self.home = home
        self.tables = tables
        self.model_name, self.dim = model_name, dim
        self.center_languages = center_languages
        self._lock = threading.RLock()
        self._rebuild_lock = threading.Lock()
        self._passages: SyncedIndex | None = None
        self._papers: SyncedIndex | None = None
        self._centering: LanguageCentering | None = None
        self._build = -1

    # ---- queries ----------------------------------------------------------------

    def search_passages(
        self, query: np.ndarray, k: int, lang: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k passage ids and cosine scores for a query vector in language `lang`."""
        index = self.passage_index()
        if index.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = index.search(self.center(query, lang), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def search_papers(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k papers whose (centered) mean passage vector is closest, best first."""
        index, paper_ids = self.paper_index()
        if index.ntotal == 0:
            return []
        scores, rows = index.search(np.asarray(vector, np.float32).reshape(1, -1), k)
        return [
            (paper_ids[row], float(score))
            for row, score in zip(rows[0], scores[0], strict=True)
            if row >= 0 and row in paper_ids
        ]

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        """A query-side vector in the same (language-centered) space as the index."""
        row = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        return self._center_rows(row, [lang])

    def passage_vectors(self, paper_id: str) -> tuple[list[int], np.ndarray]:
        """A paper's passage ids and their (centered) vectors, to explain similarity."""
        ids, vectors, langs = self.tables.paper_passage_vectors(paper_id)
        return ids.tolist(), self._center_rows(vectors, langs)

    def paper_vector(self, paper_id: str) -> np.ndarray | None:
        _, vectors = self.passage_vectors(paper_id)
        return normalized_mean(vectors) if len(vectors) else None

    def passage_index(self) -> AnnIndex:
        """The passage index, caught up with the catalog (cheap when nothing changed)."""
        self._open()
        return self._passages.current()

    def paper_index(self) -> tuple[AnnIndex, dict[int, str]]:
        """Paper-level vectors (mean of a paper's passages), ids = key in `paper ids`."""
        self._open()
        with self._lock:
            if self._papers is None:
                self._papers = self._synced_papers(self._build, self._centering)
            papers = self._papers
        return papers.current(), self.tables.paper_keys()

    # ---- lifecycle --------------------------------------------------------------

    def after_write(self) -> None:
        """Apply a commit to the loaded index; re-center a small library that drifted."""
        with self._lock:
            loaded = self._passages is not None
        if loaded:
            self.passage_index()
            if self._drifted():
                self.rebuild()

    def set_model(self, model_name: str, dim: int) -> None:
        """After the catalog's vectors were replaced: a new build with the new model."""
        self.model_name, self.dim = model_name, dim
        self.rebuild()

    def rebuild(self, spec: IndexSpec | None = None) -> IndexSpec:
        """A new index build: fresh language means, index type chosen by size, trained.

        The explicit step behind `paperlens reindex`; searches keep using the
        previous build until the new one is committed.
        """
        with self._rebuild_lock:
            centering = self._fresh_centering()
            build = self.tables.build() + 1
            synced = self._synced_passages(build, centering)
            spec = synced.rebuild(spec).spec
            with self._lock:
                self.tables.freeze(centering.to_rows(), build, spec.to_json())
                self._passages, self._papers = synced, None
                self._centering, self._build = centering, build
            self._remove_other_builds(build)
            return spec

    def checkpoint(self) -> None:
        """Write the in-memory indexes, then drop the change log both files cover."""
        with self._lock:
            indexes = [s for s in (self._passages, self._papers) if s is not None]
            build = self._build
        for synced in indexes:
            synced.save()
        if build < 0:
            return
        seqs = [self._file_seq(f"{name}.{build}.json") for name in ("passages", "papers")]
        seqs = [s for s in seqs if s is not None]
        if seqs:
            self.tables.trim_log(min(seqs))

    def stats(self) -> dict:
        """Index type, how far the language means moved since the build, bytes on disk."""
        drift = (
            self._frozen_centering().drift(self._fresh_centering())
            if self.center_languages
            else 0.0
        )
        return {
            "vector_index": json.loads(self.tables.spec_json() or "null"),
            "centering_drift": round(drift, 4),
            "index_bytes": sum(p.stat().st_size for p in self.home.glob("passages.*.faiss")),
        }

    # ---- internals --------------------------------------------------------------

    def _open(self) -> None:
        """Load the current build's indexes (catching up), or make the first build."""
        build = self.tables.build()
        with self._lock:
            if self._passages is not None and build == self._build:
                return
            if build:
                self._centering = self._frozen_centering()
                self._passages = self._synced_passages(build, self._centering)
                self._papers, self._build = None, build
        if not build or self._drifted():
            self.rebuild()

    def _drifted(self) -> bool:
        if not self.center_languages or self.tables.count() > FLAT_LIMIT:
            return False  # a large index is re-centered by an explicit rebuild
        return self._frozen_centering().drift(self._fresh_centering()) > DRIFT_TOLERANCE

    def _stamp(self, build: int) -> dict:
        return {
            "model": self.model_name + ("+centered" if self.center_languages else ""),
            "build": build,
        }

    def _synced_passages(self, build: int, centering: LanguageCentering) -> SyncedIndex:
        def scan() -> Iterator[Vectors]:
            for rows in self.tables.scan():
                yield self._centered(rows, centering)

        return SyncedIndex(
            path=self.home / f"passages.{build}.faiss",
            stamp=self._stamp(build),
            dim=self.dim,
            key="passage_id",
            log=self.tables,
            fetch=lambda keys: self._centered(self.tables.passage_vectors(keys), centering),
            scan=scan,
            count=self.tables.count,
        )

    def _synced_papers(self, build: int, centering: LanguageCentering) -> SyncedIndex:
        def vectors_of(keys: dict[int, str]) -> Vectors:
            by_paper = self.tables.papers_vectors(list(keys.values()))
            rowid = {paper_id: key for key, paper_id in keys.items()}
            found = [(rowid[p], self._centered(rows, centering)[1]) for p, rows in by_paper.items()]
            ids = np.array([key for key, _ in found], dtype=np.int64)
            return ids, _stack([normalized_mean(vectors) for _, vectors in found], self.dim)

        def scan() -> Iterator[Vectors]:
            keys = list(self.tables.paper_keys().items())
            for start in range(0, len(keys), 500):
                yield vectors_of(dict(keys[start : start + 500]))

        return SyncedIndex(
            path=self.home / f"papers.{build}.faiss",
            stamp=self._stamp(build),
            dim=self.dim,
            key="paper_key",
            log=self.tables,
            fetch=lambda keys: vectors_of(self.tables.paper_keys(keys)),
            scan=scan,
            count=self.tables.paper_count,
        )

    def _centered(self, rows: VectorRows, centering: LanguageCentering) -> Vectors:
        ids, vectors, langs = rows
        if self.center_languages:
            vectors = centering.apply(vectors, langs)
        return ids, np.ascontiguousarray(vectors, dtype=np.float32)

    def _center_rows(self, vectors: np.ndarray, langs: list[str | None]) -> np.ndarray:
        if not self.center_languages:
            return np.ascontiguousarray(vectors, dtype=np.float32)
        self._open()
        return self._centering.apply(vectors, langs)

    def _fresh_centering(self) -> LanguageCentering:
        return LanguageCentering.from_sums(self.tables.sums(), self.dim)

    def _frozen_centering(self) -> LanguageCentering:
        return LanguageCentering.from_rows(self.tables.frozen_centering(), self.dim)

    def _file_seq(self, name: str) -> int | None:
        try:
            return int(json.loads((self.home / name).read_text())["seq"])
        except (OSError, ValueError, KeyError):
            return None

    def _remove_other_builds(self, build: int) -> None:
        keep = {
            f"{name}.{build}.{ext}" for name in ("passages", "papers") for ext in ("faiss", "json")
        }
        for old in [*self.home.glob("passages.*"), *self.home.glob("papers.*")]:
            if old.name not in keep:  # earlier builds, and the files of the old design
                old.unlink(missing_ok=True)


def normalized_mean(vectors: np.ndarray) -> np.ndarray:
    """The mean of some vectors, L2-normalized (a paper's vector from its passages')."""
    if not len(vectors):
        return np.zeros(0, dtype=np.float32)
    mean = np.mean(np.asarray(vectors), axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).astype(np.float32)


def _stack(vectors: list[np.ndarray], dim: int) -> np.ndarray:
    if not vectors:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(vectors).astype(np.float32))
