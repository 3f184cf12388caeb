"""The Milvus backend's vectors: language centering (means frozen into a build,
re-centered as the default backend does), dense passage search, and the
paper-level vectors similar papers are found with.

Each passage row keeps its raw vector and its centered one (`dense`, the one
searched); a new build rewrites `dense` for every passage with fresh means.
"""

from __future__ import annotations

import threading

import numpy as np

from paperlens.index.milvus_catalog import MilvusCatalog
from paperlens.index.milvus_rows import PASSAGE_FIELDS, pack_rows, quote, unpack_rows
from paperlens.index.vector_index import DRIFT_TOLERANCE, normalized_mean
from paperlens.index.vectors import FLAT_LIMIT, IndexSpec, LanguageCentering

PAPER_BATCH = 500


class MilvusVectors:
    def __init__(self, catalog: MilvusCatalog, *, dim: int, center_languages: bool) -> None:
        self.catalog = catalog
        self.dim = dim
        self.center_languages = center_languages
        self._lock = threading.RLock()
        self._cache: tuple[int, LanguageCentering] | None = None
        self._checked_drift = False

    @property
    def kind(self) -> str:
        return "milvus-flat" if self.catalog.url.is_lite else "milvus-hnsw"

    # ---- queries ----------------------------------------------------------------------

    def search_passages(
        self, query: np.ndarray, k: int, lang: str | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k committed passages by cosine, in the language-centered space; asks for a
        few more so rows of uncommitted writes can be dropped."""
        self._check_drift_once()
        vector = self.center(query, lang)[0].tolist()
        fields = ["id", "source_id", "version"]
        want = k + max(20, k // 10)
        hits = self.catalog.visible(
            self.catalog.search("passages", "dense", [vector], want, fields)[0]
        )[:k]
        ids = np.array([h["id"] for h in hits], dtype=np.int64)
        return ids, np.array([h["distance"] for h in hits], dtype=np.float32)

    def search_papers(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        self._check_drift_once()
        query = np.asarray(vector, np.float32).ravel().tolist()
        hits = self.catalog.search("papers", "vector", [query], k, ["paper_id"])[0]
        return [(h["paper_id"], float(h["distance"])) for h in hits]

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        row = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        return self.centered(row, [lang])

    def centered(self, vectors: np.ndarray, langs: list[str | None]) -> np.ndarray:
        """Vectors in the current build's centered space."""
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(langs), self.dim)
        if not self.center_languages or not len(vectors):
            return vectors
        return self._frozen().apply(vectors, langs)

    def passage_vectors(self, paper_id: str) -> tuple[list[int], np.ndarray]:
        """A paper's passage ids and centered vectors, in ingest order."""
        fields = ["id", "source_id", "version", "ordinal", "lang", "raw"]
        rows = self.catalog.passage_rows(f"paper_id == {quote(paper_id)}", fields)
        rows.sort(key=self.catalog.order)
        return [r["id"] for r in rows], self._centered_rows(rows)

    def paper_vector(self, paper_id: str) -> np.ndarray | None:
        _, vectors = self.passage_vectors(paper_id)
        return normalized_mean(vectors) if len(vectors) else None

    # ---- keeping up with writes ----------------------------------------------------------

    def refresh_papers(self, paper_ids: set[str]) -> set[str]:
        """Each paper's mean (centered) passage vector, or none once it has no passages;
        returns the papers left without any."""
        ids, gone_all = sorted(paper_ids), set()
        for start in range(0, len(ids), PAPER_BATCH):
            chunk = ids[start : start + PAPER_BATCH]
            rows = self.catalog.passage_rows(
                _in(chunk), ["id", "source_id", "version", "paper_id", "lang", "raw"]
            )
            grouped: dict[str, list[dict]] = {}
            for row in rows:
                grouped.setdefault(row["paper_id"], []).append(row)
            vectors = [
                {"paper_id": p, "vector": normalized_mean(self._centered_rows(g)).tolist()}
                for p, g in grouped.items()
            ]
            self.catalog.upsert("papers", vectors)
            gone = [p for p in chunk if p not in grouped]
            if gone:
                self.catalog.client.delete(self.catalog.names["papers"], ids=gone)
                gone_all.update(gone)
        return gone_all

    def recenter_if_drifted(self) -> None:
        """As the default backend: a small library is re-centered when its means moved."""
        if not self.center_languages or self.catalog.totals()[0] > FLAT_LIMIT:
            return
        if self.drift() > DRIFT_TOLERANCE:
            self.rebuild()

    def drift(self) -> float:
        """How far the language means moved since the build froze them."""
        if not self.center_languages:
            return 0.0
        return self._frozen().drift(LanguageCentering.from_sums(self.catalog.sums(), self.dim))

    def rebuild(self) -> IndexSpec:
        """Freeze fresh language means and re-center every stored vector with them."""
        with self._lock:
            centering = LanguageCentering.from_sums(self.catalog.sums(), self.dim)
            build = int((self.catalog.meta("centering") or {}).get("build", 0)) + 1
            self.catalog.set_meta(
                "centering", {"build": build, "rows": pack_rows(centering.to_rows())}
            )
            self._cache = (build, centering)
            papers: set[str] = set()
            for rows in self.catalog.scan("passages", "", [*PASSAGE_FIELDS, "raw", "tf"]):
                for row, vector in zip(rows, self._centered_rows(rows), strict=True):
                    row["dense"] = vector.tolist()
                    papers.add(row["paper_id"])
                self.catalog.upsert("passages", rows)
            self.refresh_papers(papers)
            self._checked_drift = True
            return IndexSpec(self.kind)

    def build(self) -> int:
        return int((self.catalog.meta("centering") or {}).get("build", 0))

    def _check_drift_once(self) -> None:
        """The first search of a process checks the drift, as opening an index does."""
        if not self._checked_drift:
            self._checked_drift = True
            self.recenter_if_drifted()

    def _frozen(self) -> LanguageCentering:
        meta = self.catalog.meta("centering") or {}
        build = int(meta.get("build", 0))
        if self._cache is None or self._cache[0] != build:
            rows = unpack_rows(meta.get("rows", []))
            self._cache = (build, LanguageCentering.from_rows(rows, self.dim))
        return self._cache[1]

    def _centered_rows(self, rows: list[dict]) -> np.ndarray:
        raw = np.asarray([r["raw"] for r in rows], dtype=np.float32).reshape(len(rows), self.dim)
        return self.centered(raw, [r["lang"] or None for r in rows])


def _in(values: list[str]) -> str:
    return "paper_id in [" + ", ".join(quote(v) for v in values) + "]"
