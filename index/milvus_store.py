"""A library in Milvus, behind the storage seam (index/storage.py).

Milvus has no multi-row transactions, so an ingest's atomicity comes from
versions: every row a source writes (passages, mentions of papers) carries a
fresh `version`, and becomes visible only once the source's own row names that
version (one upsert: the commit point). Readers drop rows whose version is not
their source's committed one, so a search during an ingest (in this process or
another) sees the library before or after it, never half of it; a crash leaves
invisible rows that the source's next ingest removes. Each source's row also
carries its passages' per-language vector sums and BM25 totals, so library-wide
figures are sums over committed sources, with no counter two writers could race on.

Passage ids are 53-bit hashes of (source, version, position): unique across
processes without a shared counter, and exact as JSON numbers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np

from index.hits import Passage
from index.lexical import tokenize
from index.milvus_connect import IndexURL
from index.milvus_lexical import MilvusLexical, term_frequencies
from index.milvus_schema import SCHEMA_VERSION, check_manifest, collection_names, create_collections
from index.records import NewPassage, PaperRecord, SourceRecord, arxiv_ref, embed_text, merge_paper
from index.vector_index import DRIFT_TOLERANCE, normalized_mean
from index.vectors import FLAT_LIMIT, IndexSpec, LanguageCentering
from ingest.errors import PaperlensError
from ingest.models import PaperDoc, SourceDoc

BATCH = 500  # rows per upsert/get call (well under Milvus's message size cap)
SCAN_BATCH = 2_000
PASSAGE_FIELDS = [
    "id",
    "source_id",
    "version",
    "ordinal",
    "paper_id",
    "kind",
    "lang",
    "page",
    "header",
    "text",
    "start",
    "end",
    "dl",
]


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
        self.client, self.url = client, url
        self.names = collection_names(prefix)
        self.center_languages = center_languages
        self._lock = threading.RLock()
        self._live_cache: tuple[int, dict[int, tuple[int, int]]] | None = None
        self._centering_cache: tuple[int, LanguageCentering] | None = None
        manifest = self._open(model_name, dim, verify)
        self.model_name = manifest.get("embedding_model", model_name) if not verify else model_name
        self.dim = int(manifest.get("dim", dim)) if not verify else dim
        self.lexical = MilvusLexical(self)
        self._checked_drift = False

    def _open(self, model_name: str, dim: int, verify: bool) -> dict:
        """Check an existing library's manifest before writing anything; set up a new one
        (manifest first, so a process opening it meanwhile waits for a whole setup)."""
        lite = self.url.is_lite
        self._load_existing()
        if not self.client.has_collection(self.names["meta"]):
            others = any(self.client.has_collection(n) for n in self.names.values())
            if others and not self.client.has_collection(self.names["meta"]):
                check_manifest(None, self.url.text, model_name, dim)  # refuses, one line
            if not verify:
                raise PaperlensError(f"no paperlens library at {self.url.text}")
            create_collections(self.client, self.names, dim, lite=lite, only=("meta",))
            if self._meta("manifest") is None:
                self._set_meta("generation", 0)
                self._set_meta(
                    "manifest",
                    {
                        "schema_version": SCHEMA_VERSION,
                        "embedding_model": model_name,
                        "dim": dim,
                        "normalized": "l2",
                    },
                )
        manifest = self._wait_for_manifest()
        check_manifest(manifest, self.url.text, model_name if verify else "", dim)
        create_collections(self.client, self.names, int(manifest["dim"]), lite=lite)
        return manifest

    def _load_existing(self) -> None:
        """Load the library's collections into memory (a restarted engine, or Milvus Lite
        in a new process, keeps them on disk, released, until asked)."""
        existing = set(self.client.list_collections())
        for name in self.names.values():
            if name in existing:
                self.client.load_collection(name)

    def _wait_for_manifest(self, timeout: float = 15.0) -> dict | None:
        """The manifest, waiting a little for a process that is setting the library up."""
        deadline = time.monotonic() + timeout
        while (manifest := self._meta("manifest")) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        return manifest

    # ---- manifest ---------------------------------------------------------------

    def manifest(self) -> dict[str, str]:
        manifest = self._meta("manifest") or {}
        centering = self._meta("centering") or {}
        return {
            **{k: str(v) for k, v in manifest.items()},
            "generation": str(self.generation),
            "vector_build": str(centering.get("build", 0)),
        }

    @property
    def generation(self) -> int:
        """A new number at every commit (time-based, so two writers never reuse one)."""
        return int(self._meta("generation") or 0)

    # ---- writes -----------------------------------------------------------------

    def replace_source(
        self, source: SourceDoc, passages: list[NewPassage], vectors: np.ndarray
    ) -> int:
        """Write a source's rows under a new version, then commit by naming that version
        in its source row; rows of earlier versions are removed afterwards."""
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage")
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(passages), self.dim)
        source_id, version = _id53(source.uri), _new_version()
        old = self._source_row(source_id)
        touched = self._live_papers(source_id, old["version"]) if old else set()
        first_seen = old["first_seen"] if old else version
        self._write_mentions(source_id, version, first_seen, source.papers)
        texts = [p.embed_text for p in passages]
        self._write_passages(source_id, version, passages, vectors, texts)
        record = {
            "uri": source.uri,
            "kind": source.kind,
            "sha256": source.sha256,
            "title": source.title,
            "status": "ok",
            "error": None,
            "ingested_at": _now(),
            "warnings": list(source.warnings),
            **_validators(old),
        }
        stats = _source_stats(passages, vectors, texts)
        self._commit_source(source_id, record, version, first_seen, stats)
        self._remove_other_versions(source_id, version)
        self._refresh_paper_vectors(touched | {p.paper_id for p in passages})
        self._recenter_if_drifted()
        return len(passages)

    def delete_paper(self, paper_id: str) -> bool:
        rows = self._query(
            self.names["passages"],
            f"paper_id == {_quote(paper_id)}",
            ["id", "source_id", "version", "lang", "dl", "raw", "tf"],
        )
        rows = self.visible(rows)
        if not rows:
            return False
        by_source: dict[int, list[dict]] = {}
        for row in rows:
            by_source.setdefault(row["source_id"], []).append(row)
        self.client.delete(self.names["passages"], filter=f"paper_id == {_quote(paper_id)}")
        self.client.delete(self.names["mentions"], filter=f"paper_id == {_quote(paper_id)}")
        self.client.delete(self.names["papers"], ids=[paper_id])
        for source_id, removed in by_source.items():
            self._subtract_from_source(source_id, removed)
        self._bump_generation()
        self._recenter_if_drifted()
        return True

    def record_failure(self, uri: str, kind: str, error: str) -> None:
        """Remember a failed source (its earlier good passages, if any, stay)."""
        source_id = _id53(uri)
        old = self._source_row(source_id)
        if old is None:
            record = {
                "uri": uri,
                "kind": kind,
                "sha256": None,
                "title": None,
                "status": "failed",
                "error": error,
                "ingested_at": _now(),
                "warnings": [],
            }
            self._commit_source(source_id, record, 0, _new_version(), _empty_stats())
            return
        record = {**old["record"], "error": error}
        if record.get("sha256") is None:
            record["status"] = "failed"
        self._commit_source(source_id, record, old["version"], old["first_seen"], old["stats"])

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None:
        source_id = _id53(uri)
        old = self._source_row(source_id)
        if old is None:
            return
        record = {**old["record"], "etag": etag, "last_modified": last_modified}
        if checked:
            record["checked_at"] = _now()
            if record.get("status") == "ok":
                record["error"] = None
        self._commit_source(source_id, record, old["version"], old["first_seen"], old["stats"])

    def replace_vectors(
        self, ids: list[int], vectors: np.ndarray, *, model_name: str, dim: int
    ) -> None:
        """Swap every passage's vector (same dimension: Milvus fixes a field's width)."""
        if dim != self.dim:
            raise PaperlensError(
                f"the collections at {self.url.text} hold {self.dim}-dim vectors; a {dim}-dim "
                "model needs new ones: `paperlens migrate --to URL` under another "
                "PAPERLENS_MILVUS_PREFIX after reindexing the data directory"
            )
        new = dict(zip([int(i) for i in ids], np.asarray(vectors, np.float32), strict=True))
        for rows in self.scan(self.names["passages"], "", [*PASSAGE_FIELDS, "tf"]):
            rows = [r for r in rows if r["id"] in new]
            for row in rows:
                row["raw"] = row["dense"] = new[row["id"]].tolist()
            self._upsert("passages", rows)
        self._set_meta(
            "manifest",
            {**(self._meta("manifest") or {}), "embedding_model": model_name, "dim": dim},
        )
        self.model_name = model_name
        self._recount_source_sums()
        self.rebuild_index()

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH):
            rows = self.client.get(
                self.names["cache"], ids=unique[start : start + BATCH], output_fields=["vector"]
            )
            found.update({row["key"]: _unpack(row["vector"]) for row in rows})
        return found

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [{"key": k, "vector": _pack(v), "_": [0.0, 0.0]} for k, v in items]
        self._upsert("cache", rows)

    # ---- reads ------------------------------------------------------------------

    def source(self, uri: str) -> SourceRecord | None:
        row = self._source_row(_id53(uri))
        return _source_record(row) if row else None

    def sources(self) -> list[SourceRecord]:
        rows = [
            r
            for batch in self.scan(
                self.names["sources"], "", ["id", "record", "version", "first_seen", "stats"]
            )
            for r in batch
        ]
        records = [_source_record(r) for r in rows]
        return sorted(records, key=lambda r: r.ingested_at, reverse=True)

    def source_uris(self, source_ids: Iterable[int]) -> dict[int, str]:
        ids = list({int(i) for i in source_ids})
        rows = self._get("sources", ids, ["id", "record"])
        return {row["id"]: row["record"]["uri"] for row in rows}

    def source_paper_ids(self, uri: str) -> set[str]:
        source_id = _id53(uri)
        row = self._source_row(source_id)
        return self._live_papers(source_id, row["version"]) if row else set()

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        rows = self.visible(self._get("passages", [int(i) for i in ids], PASSAGE_FIELDS))
        return {row["id"]: _passage(row) for row in rows}

    def paper_passages(self, paper_id: str) -> list[Passage]:
        rows = self._passage_rows(f"paper_id == {_quote(paper_id)}", PASSAGE_FIELDS)
        rows.sort(key=lambda r: (r["kind"] == "pdf", max(r["page"], 0), *self._order(r)))
        return [_passage(row) for row in rows]

    def passage_documents(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        rows = self.visible(
            self._get(
                "passages", [int(i) for i in ids], ["id", "source_id", "version", "header", "text"]
            )
        )
        return {row["id"]: (row["header"], row["text"]) for row in rows}

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str | None]]:
        """Every passage's (id, header + text, lang), in the order sources were first seen."""
        rows = self._passage_rows(
            "", ["id", "source_id", "version", "ordinal", "header", "text", "lang"]
        )
        rows.sort(key=self._order)
        for row in rows:
            yield row["id"], embed_text(row["header"], row["text"]), row["lang"] or None

    def all_embed_texts(self) -> list[tuple[int, str]]:
        return [(pid, text) for pid, text, _ in self.iter_passage_texts()]

    def paper(self, paper_id: str) -> PaperRecord | None:
        found = self._paper_records(f"paper_id == {_quote(paper_id)}")
        return found.get(paper_id)

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]:
        if ids is None:
            return sorted(self._paper_records("").values(), key=lambda p: p.title)
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return []
        found = self._paper_records(f"paper_id in {json.dumps(wanted, ensure_ascii=False)}")
        return [found[i] for i in wanted if i in found]

    def find_paper(self, ref: str) -> PaperRecord | None:
        """By catalog id, arXiv id (any version) or exact title (case aside)."""
        ref = ref.strip()
        bare = arxiv_ref(ref)
        where = (
            f"paper_id == {_quote(ref)} or arxiv_id == {_quote(bare)} "
            f"or title_key == {_quote(ref.lower())}"
        )
        ids = {
            r["paper_id"]
            for r in self.visible(
                self._query(self.names["mentions"], where, ["paper_id", "source_id", "version"])
            )
        }
        for record in self.papers(sorted(ids)):
            if (
                ref in (record.id,)
                or record.arxiv_id == bare
                or record.title.lower() == ref.lower()
            ):
                return record
        return None

    def stats(self) -> dict:
        rows = self._passage_rows(
            "", ["id", "source_id", "version", "paper_id", "kind", "lang", "page"]
        )
        sources = self.sources()
        pdf = [r for r in rows if r["kind"] == "pdf"]
        frozen, fresh = self._frozen_centering(), self._fresh_centering()
        return {
            "papers": len({r["paper_id"] for r in rows}),
            "passages": len(rows),
            "sources": sum(s.status == "ok" for s in sources),
            "failed_sources": sum(s.status == "failed" for s in sources),
            "pdf_papers": len({r["paper_id"] for r in pdf}),
            "pdf_pages": len({(r["paper_id"], r["page"]) for r in pdf}),
            "passages_by_kind": dict(Counter(r["kind"] for r in rows)),
            "languages": dict(Counter(r["lang"] or "unknown" for r in rows)),
            "model": self.model_name,
            "dim": self.dim,
            "index_bytes": 0,  # held by the Milvus server, not on this machine
            "vector_index": {"kind": "milvus-flat" if self.url.is_lite else "milvus-hnsw"},
            "centering_drift": round(frozen.drift(fresh) if self.center_languages else 0.0, 4),
            "home": self.url.text,
        }

    # ---- vectors ----------------------------------------------------------------

    def search_passages(
        self, query: np.ndarray, k: int, lang: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k passages by cosine to a query vector, in the language-centered space."""
        self._recenter_once()
        vector = self.center(query, lang)[0]
        hits = self._search("passages", "dense", vector.tolist(), k)
        ids = [h["id"] for h in hits][:k]
        scores = [h["distance"] for h in hits][:k]
        return np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float32)

    def search_papers(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        self._recenter_once()
        hits = self.client.search(
            self.names["papers"],
            data=[np.asarray(vector, np.float32).ravel().tolist()],
            anns_field="vector",
            limit=max(1, min(k, 16_384)),
            output_fields=["paper_id"],
            search_params={"metric_type": "IP"},
        )[0]
        return [(h["entity"]["paper_id"], float(h["distance"])) for h in hits]

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        row = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if not self.center_languages:
            return row
        return self._frozen_centering().apply(row, [lang])

    def passage_vectors(self, paper_id: str) -> tuple[list[int], np.ndarray]:
        rows = self._passage_rows(
            f"paper_id == {_quote(paper_id)}",
            ["id", "source_id", "version", "ordinal", "lang", "raw"],
        )
        rows.sort(key=self._order)
        return [r["id"] for r in rows], self._centered(rows)

    def paper_vector(self, paper_id: str) -> np.ndarray | None:
        _, vectors = self.passage_vectors(paper_id)
        return normalized_mean(vectors) if len(vectors) else None

    def rebuild_index(self, spec: IndexSpec | None = None) -> IndexSpec:
        """Freeze fresh language means and re-center every stored vector with them."""
        with self._lock:
            centering = self._fresh_centering()
            build = int((self._meta("centering") or {}).get("build", 0)) + 1
            self._set_meta("centering", {"build": build, "rows": _pack_rows(centering.to_rows())})
            self._centering_cache = (build, centering)
            fields = [*PASSAGE_FIELDS, "raw", "tf"]
            papers: set[str] = set()
            for rows in self.scan(self.names["passages"], "", fields):
                dense = self._centered(rows)
                for row, vector in zip(rows, dense, strict=True):
                    row["dense"] = vector.tolist()
                    papers.add(row["paper_id"])
                self._upsert("passages", rows)
            self._refresh_paper_vectors(papers)
            self._checked_drift = True
            kind = "milvus-flat" if self.url.is_lite else "milvus-hnsw"
            return IndexSpec(kind)

    def checkpoint(self) -> None:
        """Nothing to do: Milvus persists each write itself."""

    def close(self) -> None:
        self.client.close()

    # ---- writing helpers ----------------------------------------------------------

    def _write_mentions(
        self, source_id: int, version: int, first_seen: int, papers: list[PaperDoc]
    ) -> None:
        rows = [
            {
                "id": _id53(source_id, version, paper.paper_id),
                "paper_id": paper.paper_id,
                "source_id": source_id,
                "version": version,
                "arxiv_id": paper.arxiv_id or "",
                "title_key": paper.title.lower()[:1000],
                "doc": {
                    "title": paper.title,
                    "titles": paper.titles,
                    "arxiv_id": paper.arxiv_id,
                    "authors": paper.authors,
                    "published": paper.published,
                    "abstract": paper.abstract,
                    "links": paper.links,
                    "first_seen": first_seen,
                },
                "_": [0.0, 0.0],
            }
            for paper in {p.paper_id: p for p in papers}.values()
        ]
        self._upsert("mentions", rows)

    def _write_passages(
        self,
        source_id: int,
        version: int,
        passages: list[NewPassage],
        vectors: np.ndarray,
        texts: list[str],
    ) -> None:
        dense = (
            self._frozen_centering().apply(vectors, [p.lang for p in passages])
            if self.center_languages and len(passages)
            else vectors
        )
        rows = []
        for n, (p, raw, centered, text) in enumerate(
            zip(passages, vectors, dense, texts, strict=True)
        ):
            tf, length = term_frequencies(tokenize(text))
            rows.append(
                {
                    "id": _id53(source_id, version, n),
                    "source_id": source_id,
                    "version": version,
                    "ordinal": n,
                    "paper_id": p.paper_id,
                    "kind": p.kind,
                    "lang": p.lang or "",
                    "page": -1 if p.page is None else p.page,
                    "header": p.header,
                    "text": p.text,
                    "start": p.start,
                    "end": p.end,
                    "dl": length,
                    "raw": raw.tolist(),
                    "dense": np.asarray(centered, np.float32).tolist(),
                    "tf": tf,
                }
            )
            if len(rows) == BATCH:
                self._upsert("passages", rows)
                rows = []
        self._upsert("passages", rows)

    def _commit_source(
        self, source_id: int, record: dict, version: int, first_seen: int, stats: dict
    ) -> None:
        self._upsert(
            "sources",
            [
                {
                    "id": source_id,
                    "record": record,
                    "version": version,
                    "first_seen": first_seen,
                    "stats": stats,
                    "_": [0.0, 0.0],
                }
            ],
        )
        self._bump_generation()

    def _remove_other_versions(self, source_id: int, version: int) -> None:
        where = f"source_id == {source_id} and version != {version}"
        self.client.delete(self.names["passages"], filter=where)
        self.client.delete(self.names["mentions"], filter=where)

    def _subtract_from_source(self, source_id: int, removed: list[dict]) -> None:
        row = self._source_row(source_id)
        if row is None:
            return
        stats = row["stats"]
        sums = _unpack_sums(stats.get("sums", {}))
        for r in removed:
            lang = r["lang"] or ""
            n, total = sums.get(lang, (0, np.zeros(self.dim, np.float32)))
            sums[lang] = (n - 1, total - np.asarray(r["raw"], np.float32))
        stats = {
            "docs": stats.get("docs", 0) - len(removed),
            "tokens": stats.get("tokens", 0) - sum(r["dl"] for r in removed),
            "sums": _pack_sums({k: v for k, v in sums.items() if v[0] > 0}),
        }
        self._upsert("sources", [{**row, "stats": stats, "_": [0.0, 0.0]}])

    def _recount_source_sums(self) -> None:
        """Per-source language sums from the stored vectors (after they were replaced)."""
        sums: dict[int, dict[str, tuple[int, np.ndarray]]] = {}
        for rows in self.scan(
            self.names["passages"], "", ["id", "source_id", "version", "lang", "raw"]
        ):
            for row in self.visible(rows):
                by_lang = sums.setdefault(row["source_id"], {})
                n, total = by_lang.get(row["lang"] or "", (0, np.zeros(self.dim, np.float64)))
                by_lang[row["lang"] or ""] = (n + 1, total + np.asarray(row["raw"], np.float64))
        for source in self._get(
            "sources", list(sums), ["id", "record", "version", "first_seen", "stats"]
        ):
            stats = {**source["stats"], "sums": _pack_sums(sums[source["id"]])}
            self._upsert("sources", [{**source, "stats": stats, "_": [0.0, 0.0]}])
        self._bump_generation()

    def _refresh_paper_vectors(self, paper_ids: set[str]) -> None:
        """Each paper's mean (centered) passage vector, or none once it has no passages."""
        if not paper_ids:
            return
        ids = sorted(paper_ids)
        rows = []
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            found = self._passage_rows(
                f"paper_id in {json.dumps(chunk, ensure_ascii=False)}",
                ["id", "source_id", "version", "paper_id", "lang", "raw"],
            )
            grouped: dict[str, list[dict]] = {}
            for row in found:
                grouped.setdefault(row["paper_id"], []).append(row)
            rows += [
                {"paper_id": p, "vector": normalized_mean(self._centered(g)).tolist()}
                for p, g in grouped.items()
            ]
            gone = [p for p in chunk if p not in grouped]
            if gone:
                self.client.delete(self.names["papers"], ids=gone)
        self._upsert("papers", rows)

    def _bump_generation(self) -> None:
        self._set_meta("generation", _new_version())

    # ---- centering -------------------------------------------------------------

    def _frozen_centering(self) -> LanguageCentering:
        meta = self._meta("centering") or {}
        build = int(meta.get("build", 0))
        cached = self._centering_cache
        if cached is None or cached[0] != build:
            rows = _unpack_rows(meta.get("rows", []))
            cached = (build, LanguageCentering.from_rows(rows, self.dim))
            self._centering_cache = cached
        return cached[1]

    def _fresh_centering(self) -> LanguageCentering:
        totals: dict[str, tuple[int, np.ndarray]] = {}
        for rows in self.scan(self.names["sources"], "", ["id", "version", "stats"]):
            for row in rows:
                for lang, (n, total) in _unpack_sums(row["stats"].get("sums", {})).items():
                    old_n, old = totals.get(lang, (0, np.zeros(self.dim, np.float64)))
                    totals[lang] = (old_n + n, old + total)
        return LanguageCentering.from_sums(totals, self.dim)

    def _recenter_if_drifted(self) -> None:
        """As the default backend: a small library is re-centered when its means moved."""
        if not self.center_languages or self._count() > FLAT_LIMIT:
            return
        if self._frozen_centering().drift(self._fresh_centering()) > DRIFT_TOLERANCE:
            self.rebuild_index()

    def _recenter_once(self) -> None:
        """The first search of a process checks the drift, as opening an index does."""
        if not self._checked_drift:
            self._checked_drift = True
            self._recenter_if_drifted()

    def _count(self) -> int:
        total = 0
        for rows in self.scan(self.names["sources"], "", ["id", "stats"]):
            total += sum(int(r["stats"].get("docs", 0)) for r in rows)
        return total

    def _centered(self, rows: list[dict]) -> np.ndarray:
        if not rows:
            return np.zeros((0, self.dim), np.float32)
        raw = np.asarray([r["raw"] for r in rows], dtype=np.float32)
        if not self.center_languages:
            return raw
        return self._frozen_centering().apply(raw, [r["lang"] or None for r in rows])

    # ---- reading helpers ----------------------------------------------------------

    def live(self) -> dict[int, tuple[int, int]]:
        """{source id: (committed version, first seen)}, re-read when the generation moves."""
        generation = self.generation
        cached = self._live_cache
        if cached is None or cached[0] != generation:
            rows = [
                r
                for batch in self.scan(self.names["sources"], "", ["id", "version", "first_seen"])
                for r in batch
            ]
            cached = (generation, {r["id"]: (r["version"], r["first_seen"]) for r in rows})
            self._live_cache = cached
        return cached[1]

    def visible(self, rows: list[dict]) -> list[dict]:
        live = self.live()
        return [r for r in rows if live.get(r["source_id"], (None,))[0] == r["version"]]

    def _order(self, row: dict) -> tuple[int, int]:
        return self.live().get(row["source_id"], (0, 0))[1], row.get("ordinal", 0)

    def _search(self, collection: str, field: str, vector, k: int) -> list[dict]:
        """Top-k visible rows; asks for a few more so rows of uncommitted writes can be dropped."""
        want = min(16_384, k + max(20, k // 10))
        hits = self.client.search(
            self.names[collection],
            data=[vector],
            anns_field=field,
            limit=max(1, want),
            output_fields=["source_id", "version"],
            search_params={"metric_type": "IP"},
        )[0]
        rows = [{"id": h["id"], "distance": h["distance"], **h["entity"]} for h in hits]
        return self.visible(rows)

    def _passage_rows(self, where: str, fields: list[str]) -> list[dict]:
        return self.visible(
            [r for batch in self.scan(self.names["passages"], where, fields) for r in batch]
        )

    def _live_papers(self, source_id: int, version: int) -> set[str]:
        rows = self._query(
            self.names["passages"],
            f"source_id == {source_id} and version == {version}",
            ["paper_id"],
        )
        return {r["paper_id"] for r in rows}

    def _paper_records(self, where: str) -> dict[str, PaperRecord]:
        """Papers with visible passages, merged from their sources' mentions in the order
        the sources were first seen (as the default backend merges them)."""
        mentions = self.visible(
            self._query(self.names["mentions"], where, ["paper_id", "source_id", "version", "doc"])
        )
        passages = self._passage_rows(
            where, ["id", "source_id", "version", "paper_id", "lang", "kind"]
        )
        uris = self.source_uris({r["source_id"] for r in passages})
        by_paper: dict[str, list[dict]] = {}
        for row in passages:
            by_paper.setdefault(row["paper_id"], []).append(row)
        docs: dict[str, list[dict]] = {}
        for row in sorted(mentions, key=lambda r: r["doc"].get("first_seen", 0)):
            docs.setdefault(row["paper_id"], []).append(row["doc"])
        records = {}
        for paper_id, rows in by_paper.items():
            record = None
            for doc in docs.get(paper_id, []):
                record = merge_paper(record, _paper_doc(doc))
            if record is None:
                continue
            record.id = paper_id  # a title-hash id stays the one its first source gave
            record.n_passages = len(rows)
            record.languages = sorted({r["lang"] for r in rows if r["lang"]})
            record.sources = sorted({uris[r["source_id"]] for r in rows if r["source_id"] in uris})
            record.has_pdf = any(r["kind"] == "pdf" for r in rows)
            records[paper_id] = record
        return records

    def _source_row(self, source_id: int) -> dict | None:
        rows = self._get("sources", [source_id], ["id", "record", "version", "first_seen", "stats"])
        return rows[0] if rows else None

    def _meta(self, key: str):
        rows = self.client.get(self.names["meta"], ids=[key], output_fields=["value"])
        return rows[0]["value"]["v"] if rows else None

    def _set_meta(self, key: str, value) -> None:
        self.client.upsert(
            self.names["meta"], [{"key": key, "value": {"v": value}, "_": [0.0, 0.0]}]
        )

    def _get(self, collection: str, ids: list, fields: list[str]) -> list[dict]:
        found = []
        for start in range(0, len(ids), BATCH):
            found += self.client.get(
                self.names[collection], ids=ids[start : start + BATCH], output_fields=fields
            )
        return [dict(r) for r in found]

    def _query(self, collection_name: str, where: str, fields: list[str]) -> list[dict]:
        return [r for batch in self.scan(collection_name, where, fields) for r in batch]

    def scan(self, collection_name: str, where: str, fields: list[str]) -> Iterator[list[dict]]:
        """Every matching row, SCAN_BATCH at a time (a query alone stops at 16,384)."""
        iterator = self.client.query_iterator(
            collection_name, batch_size=SCAN_BATCH, filter=where, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield [dict(r) for r in batch]
        finally:
            iterator.close()

    def _upsert(self, collection: str, rows: list[dict]) -> None:
        for start in range(0, len(rows), BATCH):
            self.client.upsert(self.names[collection], rows[start : start + BATCH])


# ---- helpers ---------------------------------------------------------------------


def _id53(*parts: object) -> int:
    """A 53-bit id from its parts: unique without a shared counter, exact in JSON."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11 or 1


_last_version = 0
_version_lock = threading.Lock()


def _new_version() -> int:
    """A number no earlier write in this process used, time-ordered across processes."""
    global _last_version
    with _version_lock:
        _last_version = max(time.time_ns() // 1000, _last_version + 1)
        return _last_version


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _validators(old: dict | None) -> dict:
    record = old["record"] if old else {}
    return {k: record.get(k) for k in ("etag", "last_modified", "checked_at")}


def _source_stats(passages: list[NewPassage], vectors: np.ndarray, texts: list[str]) -> dict:
    sums: dict[str, tuple[int, np.ndarray]] = {}
    for p, v in zip(passages, vectors, strict=True):
        n, total = sums.get(p.lang or "", (0, np.zeros(vectors.shape[1], np.float64)))
        sums[p.lang or ""] = (n + 1, total + v)
    return {
        "docs": len(passages),
        "tokens": sum(len(tokenize(t)) for t in texts),
        "sums": _pack_sums(sums),
    }


def _empty_stats() -> dict:
    return {"docs": 0, "tokens": 0, "sums": {}}


def _pack(vector: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vector, np.float32).tobytes()).decode()


def _unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.float32)


def _pack_sums(sums: dict[str, tuple[int, np.ndarray]]) -> dict:
    return {lang: [int(n), _pack(total)] for lang, (n, total) in sums.items()}


def _unpack_sums(packed: dict) -> dict[str, tuple[int, np.ndarray]]:
    return {
        lang: (int(n), _unpack(total).astype(np.float64)) for lang, (n, total) in packed.items()
    }


def _pack_rows(rows: list[tuple[str, bytes]]) -> list[list[str]]:
    return [[lang, base64.b64encode(blob).decode()] for lang, blob in rows]


def _unpack_rows(rows: list[list[str]]) -> list[tuple[str, bytes]]:
    return [(lang, base64.b64decode(blob)) for lang, blob in rows]


def _passage(row: dict) -> Passage:
    return Passage(
        id=row["id"],
        paper_id=row["paper_id"],
        source_id=row["source_id"],
        kind=row["kind"],
        lang=row["lang"] or None,
        page=None if row["page"] < 0 else row["page"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
    )


def _paper_doc(doc: dict) -> PaperDoc:
    return PaperDoc(
        title=doc["title"],
        titles=dict(doc.get("titles") or {}),
        arxiv_id=doc.get("arxiv_id"),
        authors=list(doc.get("authors") or []),
        published=doc.get("published"),
        abstract=doc.get("abstract"),
        links=dict(doc.get("links") or {}),
    )


def _source_record(row: dict) -> SourceRecord:
    record = row["record"]
    return SourceRecord(
        id=row["id"],
        uri=record["uri"],
        kind=record["kind"],
        sha256=record.get("sha256"),
        title=record.get("title"),
        status=record["status"],
        error=record.get("error"),
        ingested_at=record["ingested_at"],
        etag=record.get("etag"),
        last_modified=record.get("last_modified"),
        checked_at=record.get("checked_at"),
        warnings=list(record.get("warnings") or []),
    )
