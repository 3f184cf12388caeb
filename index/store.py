"""One data directory behind the storage seam (index/storage.py): the catalog
(SQLite), the vector indexes (FAISS checkpoints) and BM25 (FTS5 in the catalog).

Why vectors live twice: each passage's vector is a blob in its catalog row,
committed with the row, its postings and its language's running sum, so
SQLite's commit is the single commit point of an ingest; the FAISS files are
checkpoints derived from it and caught up from the change log
(index/catalog.py, index/vector_index.py, index/sync.py).

This module only composes them: writes go to the catalog, then the loaded
vector index catches up; reads go to whichever part holds the answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from paperlens.index.catalog import Catalog
from paperlens.index.catalog_schema import SCHEMA, SCHEMA_VERSION
from paperlens.index.hits import Passage
from paperlens.index.lexical import LexicalIndex
from paperlens.index.records import (
    ForgottenSource,
    IndexMismatchError,
    NewPassage,
    PaperRecord,
    SourceRecord,
)
from paperlens.index.vector_index import VectorIndex
from paperlens.index.vectors import AnnIndex, IndexSpec
from paperlens.ingest.documents import SourceDoc

# The names callers import from here (the records live in index/records.py).
__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "IndexMismatchError",
    "NewPassage",
    "PaperRecord",
    "SourceRecord",
    "Store",
]


class Store:
    """One data directory: `catalog.sqlite` + `passages.N.faiss` + `papers.N.faiss`."""

    def __init__(
        self,
        home: Path,
        *,
        model_name: str,
        dim: int,
        verify: bool = True,
        center_languages: bool = True,
    ) -> None:
        self.home = Path(home)
        self.catalog = Catalog(self.home, dim=dim)
        if verify:
            self.catalog.check_manifest(model_name, dim)
        self.vectors = VectorIndex(
            self.home,
            self.catalog.vectors,
            model_name=model_name,
            dim=dim,
            center_languages=center_languages,
        )
        self.lexical = LexicalIndex(self.catalog.connections.get)
        if verify:
            self.catalog.catch_up_lexical()

    @classmethod
    def open_for_reindex(cls, home: Path) -> Store:
        """Open whatever model the index was built with, to re-embed it."""
        store = cls(home, model_name="", dim=0, verify=False)
        meta = store.manifest()
        model_name, dim = meta.get("embedding_model", ""), int(meta.get("dim", 0))
        store.catalog.dim = dim
        store.vectors.model_name, store.vectors.dim = model_name, dim
        return store

    @property
    def model_name(self) -> str:
        return self.vectors.model_name

    @property
    def dim(self) -> int:
        return self.vectors.dim

    # ---- manifest ---------------------------------------------------------------

    def manifest(self) -> dict[str, str]:
        return self.catalog.manifest()

    @property
    def generation(self) -> int:
        return self.catalog.generation

    # ---- writes -----------------------------------------------------------------

    def replace_source(
        self, source: SourceDoc, passages: list[NewPassage], vectors: np.ndarray
    ) -> int:
        """Store a source's papers and passages, replacing what it gave before (see
        `Catalog.replace_source`); returns the number of passages it now has."""
        self.catalog.replace_source(source, passages, vectors)
        self.vectors.after_write()
        return len(passages)

    def delete_paper(self, paper_id: str) -> bool:
        deleted = self.catalog.delete_paper(paper_id)
        self.vectors.after_write()
        return deleted

    def forget_source(self, uri: str) -> ForgottenSource | None:
        forgotten = self.catalog.forget_source(uri)
        self.vectors.after_write()
        return forgotten

    def record_failure(self, uri: str, kind: str, error: str) -> None:
        self.catalog.record_failure(uri, kind, error)

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None:
        self.catalog.set_validators(uri, etag, last_modified, checked=checked)

    def replace_vectors(
        self, ids: list[int], vectors: np.ndarray, *, model_name: str, dim: int
    ) -> None:
        """Swap every passage vector and the manifest's model, then rebuild the index."""
        self.catalog.replace_vectors(ids, vectors, model_name=model_name, dim=dim)
        self.vectors.set_model(model_name, dim)

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        return self.catalog.cached_vectors(keys)

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self.catalog.cache_vectors(items)

    # ---- reads ------------------------------------------------------------------

    def source(self, uri: str) -> SourceRecord | None:
        return self.catalog.source(uri)

    def sources(self) -> list[SourceRecord]:
        return self.catalog.sources()

    def source_uris(self, source_ids: Iterable[int]) -> dict[int, str]:
        return self.catalog.source_uris(source_ids)

    def source_paper_ids(self, uri: str) -> set[str]:
        return self.catalog.source_paper_ids(uri)

    def source_passage_counts(self) -> dict[str, int]:
        return self.catalog.source_passage_counts()

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        return self.catalog.passages(ids)

    def paper_passages(self, paper_id: str) -> list[Passage]:
        return self.catalog.paper_passages(paper_id)

    def passage_documents(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        return self.catalog.passage_documents(ids)

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str | None]]:
        return self.catalog.iter_passage_texts()

    def all_embed_texts(self) -> list[tuple[int, str]]:
        return [(pid, text) for pid, text, _ in self.iter_passage_texts()]

    def all_passage_parts(self) -> list[tuple[int, str, str]]:
        return self.catalog.all_passage_parts()

    def paper(self, paper_id: str) -> PaperRecord | None:
        return self.catalog.paper(paper_id)

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]:
        return self.catalog.papers(ids)

    def find_paper(self, ref: str) -> PaperRecord | None:
        return self.catalog.find_paper(ref)

    def stats(self) -> dict:
        vectors = self.vectors.stats()
        catalog_file = self.home / "catalog.sqlite"
        catalog_bytes = catalog_file.stat().st_size if catalog_file.exists() else 0
        return {
            **self.catalog.counts(),
            "model": self.model_name,
            "dim": self.dim,
            "index_bytes": catalog_bytes + vectors.pop("index_bytes"),
            **vectors,
            "home": str(self.home),
        }

    # ---- vectors ----------------------------------------------------------------

    def search_passages(
        self, query: np.ndarray, k: int, lang: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.vectors.search_passages(query, k, lang)

    def search_papers(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        return self.vectors.search_papers(vector, k)

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        return self.vectors.center(vector, lang)

    def passage_vectors(self, paper_id: str) -> tuple[list[int], np.ndarray]:
        return self.vectors.passage_vectors(paper_id)

    def paper_vector(self, paper_id: str) -> np.ndarray | None:
        return self.vectors.paper_vector(paper_id)

    def passage_index(self) -> AnnIndex:
        """The FAISS passage index itself (tests and benchmarks of this backend)."""
        return self.vectors.passage_index()

    def rebuild_index(self, spec: IndexSpec | None = None) -> IndexSpec:
        return self.vectors.rebuild(spec)

    def checkpoint(self) -> None:
        self.vectors.checkpoint()

    def close(self) -> None:
        """Checkpoint the vector indexes and close every thread's connection."""
        self.checkpoint()
        self.catalog.close()
