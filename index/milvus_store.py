"""A library in Milvus behind the storage seam (index/storage.py): a small facade
over the catalog (index/milvus_catalog.py: rows, versions, visibility), the
vectors (index/milvus_vectors.py: centering, dense search, paper vectors) and
BM25 (index/milvus_lexical.py), as index/store.py is for the data directory.

Passage ids are 53-bit hashes of (source, version, position): unique across
processes without a shared counter, and exact as JSON numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from paperlens.index.hits import Passage
from paperlens.index.lexical import tokenize
from paperlens.index.milvus_catalog import MilvusCatalog
from paperlens.index.milvus_connect import IndexURL
from paperlens.index.milvus_lexical import MilvusLexical, term_frequencies
from paperlens.index.milvus_rows import PASSAGE_FIELDS, id53, new_version, now, source_stats
from paperlens.index.milvus_vectors import MilvusVectors
from paperlens.index.records import ForgottenSource, NewPassage, PaperRecord, SourceRecord
from paperlens.index.vectors import IndexSpec
from paperlens.ingest.documents import SourceDoc
from paperlens.ingest.errors import PaperlensError


class MilvusStore:
    """Catalog + vectors + BM25 of one library in a Milvus database (or Milvus Lite)."""

    def __init__(
        self,
        client,
        url: IndexURL,
        *,
        prefix: str,
        model_name: str,
        dim: int,
        center_languages: bool = True,
        verify: bool = True,
    ) -> None:
        self.url = url
        self.catalog = MilvusCatalog(client, url, prefix)
        manifest = self.catalog.open(model_name, dim, verify=verify)
        self.model_name = model_name if verify else manifest.get("embedding_model", "")
        self.dim = dim if verify else int(manifest.get("dim", 0))
        self.vectors = MilvusVectors(self.catalog, dim=self.dim, center_languages=center_languages)
        self.lexical = MilvusLexical(self.catalog)

    @property
    def client(self):
        """The pymilvus client (tests and tools that look at the collections)."""
        return self.catalog.client

    # ---- manifest ---------------------------------------------------------------

    def manifest(self) -> dict[str, str]:
        manifest = self.catalog.meta("manifest") or {}
        return {
            **{k: str(v) for k, v in manifest.items()},
            "generation": str(self.generation),
            "vector_build": str(self.vectors.build()),
        }

    @property
    def generation(self) -> int:
        return self.catalog.generation

    # ---- writes -----------------------------------------------------------------

    def replace_source(
        self, source: SourceDoc, passages: list[NewPassage], vectors: np.ndarray
    ) -> int:
        """Write a source's rows under a new version, commit by naming that version in
        its source row, then remove the rows of earlier versions."""
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage")
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(passages), self.dim)
        source_id, version = id53(source.uri), new_version()
        old = self.catalog.source_row(source_id)
        touched = self.catalog.live_papers(source_id, old["version"]) if old else set()
        first_seen = old["first_seen"] if old else version
        self.catalog.write_mentions(source_id, version, first_seen, source.papers)
        texts = [p.embed_text for p in passages]
        self._write_passages(source_id, version, passages, vectors, texts)
        record = {
            "uri": source.uri,
            "kind": source.kind,
            "sha256": source.sha256,
            "title": source.title,
            "status": "ok",
            "error": None,
            "ingested_at": now(),
            "warnings": list(source.warnings),
            **{
                k: (old or {}).get("record", {}).get(k)
                for k in ("etag", "last_modified", "checked_at")
            },
        }
        stats = source_stats(passages, vectors, texts)
        self.catalog.commit_source(source_id, record, version, first_seen, stats)
        self.catalog.remove_other_versions(source_id, version)
        self.vectors.refresh_papers(touched | {p.paper_id for p in passages})
        self.vectors.recenter_if_drifted()
        return len(passages)

    def _write_passages(
        self,
        source_id: int,
        version: int,
        passages: list[NewPassage],
        vectors: np.ndarray,
        texts: list[str],
    ) -> None:
        dense = self.vectors.centered(vectors, [p.lang for p in passages])
        rows = []
        for n, (p, raw, centered, text) in enumerate(
            zip(passages, vectors, dense, texts, strict=True)
        ):
            tf, length = term_frequencies(tokenize(text))
            rows.append({
                "id": id53(source_id, version, n), "source_id": source_id, "version": version,
                "ordinal": n, "paper_id": p.paper_id, "kind": p.kind, "lang": p.lang or "",
                "page": -1 if p.page is None else p.page, "header": p.header, "text": p.text,
                "start": p.start, "end": p.end, "dl": length, "raw": raw.tolist(),
                "dense": centered.tolist(), "tf": tf,
            })  # fmt: skip
        self.catalog.upsert("passages", rows)

    def delete_paper(self, paper_id: str) -> bool:
        removed = self.catalog.delete_paper_rows(paper_id)
        if not removed:
            return False
        by_source: dict[int, list[dict]] = {}
        for row in removed:
            by_source.setdefault(row["source_id"], []).append(row)
        for source_id, rows in by_source.items():
            self.catalog.subtract_from_source(source_id, rows, self.dim)
        self.catalog.bump_generation()
        self.vectors.recenter_if_drifted()
        return True

    def forget_source(self, uri: str) -> ForgottenSource | None:
        """Remove the source's row (the commit point), then its rows; re-average the
        papers it touched, which drops those left without passages."""
        source_id = id53(uri)
        row = self.catalog.source_row(source_id)
        if row is None:
            return None
        where = f"source_id == {source_id}"
        passages = self.catalog.passage_rows(where, ["id", "source_id", "version", "paper_id"])
        self.catalog.forget_source(source_id)
        gone = self.vectors.refresh_papers({p["paper_id"] for p in passages})
        self.vectors.recenter_if_drifted()
        return ForgottenSource(uri, row["record"]["status"], len(passages), len(gone))

    def record_failure(self, uri: str, kind: str, error: str) -> None:
        self.catalog.record_failure(uri, kind, error)

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None:
        self.catalog.set_validators(uri, etag, last_modified, checked=checked)

    def replace_vectors(
        self, ids: list[int], vectors: np.ndarray, *, model_name: str, dim: int
    ) -> None:
        """Swap every passage's vector (same width: Milvus fixes a vector field's)."""
        if dim != self.dim:
            raise PaperlensError(
                f"the collections at {self.url.text} hold {self.dim}-dim vectors; a {dim}-dim "
                "model needs new ones: reindex a data directory, then `paperlens migrate "
                "--to URL` under another PAPERLENS_MILVUS_PREFIX"
            )
        new = dict(zip([int(i) for i in ids], np.asarray(vectors, np.float32), strict=True))
        for rows in self.catalog.scan("passages", "", [*PASSAGE_FIELDS, "tf"]):
            rows = [r for r in rows if r["id"] in new]
            for row in rows:
                row["raw"] = row["dense"] = new[row["id"]].tolist()
            self.catalog.upsert("passages", rows)
        self.catalog.set_manifest_model(model_name, dim)
        self.model_name = model_name
        self.catalog.recount_sums(self.dim)
        self.vectors.rebuild()

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
        found = self.catalog.papers([paper_id])
        return found[0] if found else None

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]:
        return self.catalog.papers(ids)

    def find_paper(self, ref: str) -> PaperRecord | None:
        return self.catalog.find_paper(ref)

    def stats(self) -> dict:
        return {
            **self.catalog.counts(),
            "model": self.model_name,
            "dim": self.dim,
            "index_bytes": 0,  # held by the Milvus server, not on this machine
            "vector_index": {"kind": self.vectors.kind},
            "centering_drift": round(self.vectors.drift(), 4),
            "home": self.url.text,
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

    def rebuild_index(self, spec: IndexSpec | None = None) -> IndexSpec:
        """Re-center every vector with fresh language means (`spec` is the default
        backend's; Milvus keeps the index type it was created with)."""
        return self.vectors.rebuild()

    def checkpoint(self) -> None:
        """Nothing to do: Milvus persists each write itself."""

    def close(self) -> None:
        self.catalog.client.close()
