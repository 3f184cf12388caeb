"""The storage seam: what search, ingest, the app and the CLI need from a library's
storage, whatever holds it.

Two implementations sit behind it: `index.store.Store` (a data directory: SQLite
catalog + FAISS checkpoints + BM25 over FTS5, the default) and a Milvus-backed
one. Everything above it (fusion, reranking, focus, abstention, citations,
summaries, similar papers' explanations) is written once against this interface.
Passage ids are integers the backend assigns; paper ids are the catalog's stable
ids (`arxiv:2310.02207`, or a title hash).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from paperlens.index.hits import Passage
from paperlens.index.records import ForgottenSource, NewPassage, PaperRecord, SourceRecord
from paperlens.ingest.documents import SourceDoc

Ranked = tuple[np.ndarray, np.ndarray]  # (int64 passage ids, float32 scores), best first


class LexicalSearch(Protocol):
    """BM25 over passages, tokenized by index/lexical.py's `tokenize` (every script)."""

    def search(self, query: str, k: int) -> Ranked:
        """Top-k passage ids and BM25 scores (only passages sharing a token)."""
        ...

    def __len__(self) -> int:
        """Passages indexed."""
        ...


class IndexBuild(Protocol):
    """What a rebuild reports (index kind and parameters), printed by `reindex --index-only`."""

    def to_json(self) -> str: ...


@runtime_checkable
class LibraryStore(Protocol):
    """Catalog + vectors + lexical postings of one library, kept consistent.

    Writes are atomic per call: a source's papers, passages, vectors and postings
    land together or not at all, and every reader (this process or another one)
    sees either the library before the call or after it.
    """

    model_name: str
    dim: int
    lexical: LexicalSearch

    # ---- manifest ---------------------------------------------------------------
    def manifest(self) -> dict[str, str]:
        """embedding_model, dim, schema_version, ... as strings."""
        ...

    @property
    def generation(self) -> int:
        """A number every write changes: a reader's cheap "did the library change?"."""
        ...

    # ---- writes -----------------------------------------------------------------
    def replace_source(
        self, source: SourceDoc, passages: list[NewPassage], vectors: np.ndarray
    ) -> int:
        """Store a source's papers and passages (one vector each), replacing what it gave
        before; returns the number of passages the source now has."""
        ...

    def record_failure(self, uri: str, kind: str, error: str) -> None: ...

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None: ...

    def delete_paper(self, paper_id: str) -> bool: ...

    def forget_source(self, uri: str) -> ForgottenSource | None:
        """Remove the source stored under `uri` (exactly), its passages (vectors and
        postings) and every paper left with no passage; None when there is no such
        source. Atomic like every write."""
        ...

    def replace_vectors(
        self, ids: list[int], vectors: np.ndarray, *, model_name: str, dim: int
    ) -> None:
        """Swap every passage's vector and the manifest's model (`paperlens reindex`)."""
        ...

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The embedding cache (by text and model key), for ingest and the reranker."""
        ...

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None: ...

    # ---- reads ------------------------------------------------------------------
    def source(self, uri: str) -> SourceRecord | None: ...

    def sources(self) -> list[SourceRecord]: ...

    def source_uris(self, source_ids: Iterable[int]) -> dict[int, str]: ...

    def source_paper_ids(self, uri: str) -> set[str]: ...

    def source_passage_counts(self) -> dict[str, int]:
        """Passages each source holds now, by URI (sources holding none left out)."""
        ...

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]: ...

    def paper_passages(self, paper_id: str) -> list[Passage]: ...

    def passage_documents(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(header, text) of each passage, as embedded."""
        ...

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str | None]]:
        """(id, header + text, lang) of every passage, in id order."""
        ...

    def all_embed_texts(self) -> list[tuple[int, str]]: ...

    def all_passage_parts(self) -> list[tuple[int, str, str]]:
        """(id, header, text) of every passage: what an embedder formats to re-embed."""
        ...

    def paper(self, paper_id: str) -> PaperRecord | None: ...

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]: ...

    def find_paper(self, ref: str) -> PaperRecord | None:
        """By catalog id, arXiv id (any version) or exact title."""
        ...

    def stats(self) -> dict:
        """papers, passages, sources, failed_sources, pdf_papers, pdf_pages,
        passages_by_kind, languages, model, dim, index_bytes, vector_index,
        centering_drift, home (documented in docs/json.md)."""
        ...

    # ---- vectors ----------------------------------------------------------------
    def search_passages(self, query: np.ndarray, k: int, lang: str | None = None) -> Ranked:
        """Top-k passages by cosine to a query vector in language `lang` (centered)."""
        ...

    def search_papers(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k papers by cosine of their mean (centered) passage vector."""
        ...

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        """A raw vector moved into the index's language-centered space, shape (1, dim)."""
        ...

    def passage_vectors(self, paper_id: str) -> tuple[list[int], np.ndarray]:
        """A paper's passage ids and centered vectors."""
        ...

    def paper_vector(self, paper_id: str) -> np.ndarray | None: ...

    def rebuild_index(self) -> IndexBuild:
        """Re-center and rebuild the vector index (`paperlens reindex --index-only`)."""
        ...

    def checkpoint(self) -> None:
        """Make what is committed durable where the backend needs it (FAISS files)."""
        ...

    def close(self) -> None: ...
