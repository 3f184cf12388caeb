"""The Milvus backend's catalog: sources, mentions of papers, passages, the
embedding cache and the manifest, with the visibility rule that makes each
source's write atomic.

Every row an ingest writes carries a fresh `version`; it becomes visible only
once the source's own row names that version (one upsert: the commit point).
Readers drop rows whose version is not their source's committed one, so a
reader in any process sees a source before or after an ingest, never half of
it; a crash leaves invisible rows that the source's next ingest removes. Each
source row also carries its passages' per-language vector sums and BM25 totals:
library-wide figures are sums over committed sources, with no shared counter
two writers could race on.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator

import numpy as np

from paperlens.index.hits import Passage
from paperlens.index.milvus_connect import IndexURL
from paperlens.index.milvus_rows import (
    BATCH,
    MARKER,
    PASSAGE_FIELDS,
    SCAN_BATCH,
    SOURCE_FIELDS,
    Sums,
    empty_stats,
    id53,
    mention_doc,
    new_version,
    now,
    pack,
    pack_sums,
    passage_from_row,
    quote,
    source_record,
    unpack,
    unpack_sums,
)
from paperlens.index.milvus_schema import (
    SCHEMA_VERSION,
    check_manifest,
    collection_names,
    create_collections,
)
from paperlens.index.records import PaperRecord, SourceRecord, arxiv_ref, embed_text, merged_paper
from paperlens.ingest.documents import PaperDoc
from paperlens.ingest.errors import PaperlensError


class MilvusCatalog:
    """The rows of one library (`<prefix>_*` collections) and who may see them."""

    def __init__(self, client, url: IndexURL, prefix: str) -> None:
        self.client, self.url = client, url
        self.names = collection_names(prefix)
        self._live_cache: tuple[int, dict[int, tuple[int, int]]] | None = None

    # ---- setting up ----------------------------------------------------------------

    def open(self, model_name: str, dim: int, *, verify: bool) -> dict:
        """Check an existing library's manifest before writing anything, or set up a new
        one (manifest first, so a process opening it meanwhile waits for a whole setup).
        Returns the manifest."""
        self._load_existing()
        if not self.client.has_collection(self.names["meta"]):
            others = any(self.client.has_collection(n) for n in self.names.values())
            if others and not self.client.has_collection(self.names["meta"]):
                check_manifest(None, self.url.text, model_name, dim)  # refuses, one line
            if not verify:
                raise PaperlensError(f"no paperlens library at {self.url.text}")
            create_collections(self.client, self.names, dim, lite=self.url.is_lite, only=("meta",))
            if self.meta("manifest") is None:
                self.set_meta("generation", 0)
                self.set_meta("manifest", _manifest(model_name, dim))
        manifest = self._wait_for_manifest()
        check_manifest(manifest, self.url.text, model_name if verify else "", dim)
        create_collections(self.client, self.names, int(manifest["dim"]), lite=self.url.is_lite)
        return manifest

    def _load_existing(self) -> None:
        """Load the collections (a restarted engine, or Milvus Lite in a new process,
        keeps them on disk, released, until asked)."""
        existing = set(self.client.list_collections())
        for name in self.names.values():
            if name in existing:
                self.client.load_collection(name)

    def _wait_for_manifest(self, timeout: float = 15.0) -> dict | None:
        deadline = time.monotonic() + timeout
        while (manifest := self.meta("manifest")) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        return manifest

    # ---- manifest and generation ----------------------------------------------------

    def meta(self, key: str):
        rows = self.client.get(self.names["meta"], ids=[key], output_fields=["value"])
        return rows[0]["value"]["v"] if rows else None

    def set_meta(self, key: str, value) -> None:
        self.client.upsert(self.names["meta"], [{"key": key, "value": {"v": value}, "_": MARKER}])

    @property
    def generation(self) -> int:
        """A new number at every commit (time-based, so two writers never reuse one)."""
        return int(self.meta("generation") or 0)

    def bump_generation(self) -> None:
        self.set_meta("generation", new_version())

    # ---- visibility -------------------------------------------------------------------

    def live(self) -> dict[int, tuple[int, int]]:
        """{source id: (committed version, first seen)}, re-read when the generation moves."""
        generation = self.generation
        cached = self._live_cache
        if cached is None or cached[0] != generation:
            rows = self.query("sources", "", ["id", "version", "first_seen"])
            cached = (generation, {r["id"]: (r["version"], r["first_seen"]) for r in rows})
            self._live_cache = cached
        return cached[1]

    def visible(self, rows: list[dict]) -> list[dict]:
        """The rows whose version is their source's committed one."""
        live = self.live()
        return [r for r in rows if live.get(r["source_id"], (None,))[0] == r["version"]]

    def order(self, row: dict) -> tuple[int, int]:
        """Ingest order of a passage: its source's first ingest, then its position."""
        return self.live().get(row["source_id"], (0, 0))[1], row.get("ordinal", 0)

    # ---- sources: the commit point -------------------------------------------------

    def source_row(self, source_id: int) -> dict | None:
        rows = self.get("sources", [source_id], SOURCE_FIELDS)
        return rows[0] if rows else None

    def commit_source(
        self, source_id: int, record: dict, version: int, first_seen: int, stats: dict
    ) -> None:
        """Write the source's row (naming the version its readers see), then the generation."""
        row = {"id": source_id, "record": record, "version": version, "first_seen": first_seen}
        self.upsert("sources", [{**row, "stats": stats, "_": MARKER}])
        self.bump_generation()

    def record_failure(self, uri: str, kind: str, error: str) -> None:
        """Remember a failed source (its earlier good passages, if any, stay)."""
        source_id = id53(uri)
        old = self.source_row(source_id)
        if old is None:
            record = {
                "uri": uri, "kind": kind, "sha256": None, "title": None, "status": "failed",
                "error": error, "ingested_at": now(), "warnings": [],
            }  # fmt: skip
            self.commit_source(source_id, record, 0, new_version(), empty_stats())
            return
        record = {**old["record"], "error": error}
        if record.get("sha256") is None:
            record["status"] = "failed"
        self.commit_source(source_id, record, old["version"], old["first_seen"], old["stats"])

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None:
        old = self.source_row(id53(uri))
        if old is None:
            return
        record = {**old["record"], "etag": etag, "last_modified": last_modified}
        if checked:
            record["checked_at"] = now()
            if record.get("status") == "ok":
                record["error"] = None
        self.commit_source(old["id"], record, old["version"], old["first_seen"], old["stats"])

    # ---- rows of one write -------------------------------------------------------------

    def write_mentions(
        self, source_id: int, version: int, first_seen: int, papers: list[PaperDoc]
    ) -> None:
        rows = [
            {
                "id": id53(source_id, version, paper.paper_id),
                "paper_id": paper.paper_id,
                "source_id": source_id,
                "version": version,
                "arxiv_id": paper.arxiv_id or "",
                "title_key": paper.title.lower()[:1000],
                "doc": mention_doc(paper, first_seen),
                "_": MARKER,
            }
            for paper in {p.paper_id: p for p in papers}.values()
        ]
        self.upsert("mentions", rows)

    def remove_other_versions(self, source_id: int, version: int) -> None:
        """After a commit: the rows earlier (or crashed) writes of this source left."""
        self._delete_rows(f"source_id == {source_id} and version != {version}")

    def forget_source(self, source_id: int) -> None:
        """Delete a source's row first: that hides all its rows from every reader at
        once (the commit point, as writing it is for an ingest), and its sums and
        totals leave the library's figures with it. Then its rows; a crash between
        leaves only invisible rows, which a later ingest of the source removes (and
        its papers' mean vectors as they were until those papers are written again)."""
        self.client.delete(self.names["sources"], ids=[source_id])
        self.bump_generation()
        self._delete_rows(f"source_id == {source_id}")

    def _delete_rows(self, where: str) -> None:
        self.client.delete(self.names["passages"], filter=where)
        self.client.delete(self.names["mentions"], filter=where)

    def delete_paper_rows(self, paper_id: str) -> list[dict]:
        """Remove a paper's rows; returns its visible passages as they were."""
        where = f"paper_id == {quote(paper_id)}"
        fields = ["id", "source_id", "version", "lang", "dl", "raw"]
        rows = self.visible(self.query("passages", where, fields))
        if rows:
            self.client.delete(self.names["passages"], filter=where)
            self.client.delete(self.names["mentions"], filter=where)
            self.client.delete(self.names["papers"], ids=[paper_id])
        return rows

    def subtract_from_source(self, source_id: int, removed: list[dict], dim: int) -> None:
        """Take deleted passages out of their source's sums and BM25 totals."""
        row = self.source_row(source_id)
        if row is None:
            return
        stats = row["stats"]
        sums = unpack_sums(stats.get("sums", {}))
        for r in removed:
            n, total = sums.get(r["lang"] or "", (0, np.zeros(dim, np.float64)))
            sums[r["lang"] or ""] = (n - 1, total - np.asarray(r["raw"], np.float64))
        stats = {
            "docs": stats.get("docs", 0) - len(removed),
            "tokens": stats.get("tokens", 0) - sum(r["dl"] for r in removed),
            "sums": pack_sums({k: v for k, v in sums.items() if v[0] > 0}),
        }
        self.upsert("sources", [{**row, "stats": stats, "_": MARKER}])

    def recount_sums(self, dim: int) -> None:
        """Every source's language sums from its stored vectors (after they were replaced)."""
        sums: dict[int, Sums] = {}
        for rows in self.scan("passages", "", ["id", "source_id", "version", "lang", "raw"]):
            for row in self.visible(rows):
                by_lang = sums.setdefault(row["source_id"], {})
                n, total = by_lang.get(row["lang"] or "", (0, np.zeros(dim, np.float64)))
                by_lang[row["lang"] or ""] = (n + 1, total + np.asarray(row["raw"], np.float64))
        for source in self.get("sources", list(sums), SOURCE_FIELDS):
            stats = {**source["stats"], "sums": pack_sums(sums[source["id"]])}
            self.upsert("sources", [{**source, "stats": stats, "_": MARKER}])
        self.bump_generation()

    def set_manifest_model(self, model_name: str, dim: int) -> None:
        self.set_meta(
            "manifest", {**(self.meta("manifest") or {}), "embedding_model": model_name, "dim": dim}
        )

    # ---- library-wide figures -----------------------------------------------------------

    def sums(self) -> Sums:
        """Per-language vector sums over committed sources."""
        totals: Sums = {}
        for row in self.query("sources", "", ["id", "stats"]):
            for lang, (n, total) in unpack_sums(row["stats"].get("sums", {})).items():
                old_n, old = totals.get(lang, (0, 0.0))
                totals[lang] = (old_n + n, old + total)
        return totals

    def totals(self) -> tuple[int, int]:
        """(passages, BM25 tokens) over committed sources."""
        rows = self.query("sources", "", ["id", "stats"])
        docs = sum(int(r["stats"].get("docs", 0)) for r in rows)
        return docs, sum(int(r["stats"].get("tokens", 0)) for r in rows)

    # ---- embedding cache ------------------------------------------------------------------

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        rows = self.get("cache", list(dict.fromkeys(keys)), ["key", "vector"])
        return {row["key"]: unpack(row["vector"]) for row in rows}

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        self.upsert("cache", [{"key": k, "vector": pack(v), "_": MARKER} for k, v in items])

    # ---- reads --------------------------------------------------------------------------

    def source(self, uri: str) -> SourceRecord | None:
        row = self.source_row(id53(uri))
        return source_record(row) if row else None

    def sources(self) -> list[SourceRecord]:
        records = [source_record(r) for r in self.query("sources", "", SOURCE_FIELDS)]
        return sorted(records, key=lambda r: r.ingested_at, reverse=True)

    def source_uris(self, source_ids: Iterable[int]) -> dict[int, str]:
        rows = self.get("sources", list({int(i) for i in source_ids}), ["id", "record"])
        return {row["id"]: row["record"]["uri"] for row in rows}

    def source_paper_ids(self, uri: str) -> set[str]:
        row = self.source_row(id53(uri))
        return self.live_papers(row["id"], row["version"]) if row else set()

    def source_passage_counts(self) -> dict[str, int]:
        """Passages each committed source holds, from the totals its row keeps."""
        rows = self.query("sources", "", ["id", "record", "stats"])
        counts = {r["record"]["uri"]: int(r["stats"].get("docs", 0)) for r in rows}
        return {uri: n for uri, n in counts.items() if n > 0}

    def live_papers(self, source_id: int, version: int) -> set[str]:
        where = f"source_id == {source_id} and version == {version}"
        return {r["paper_id"] for r in self.query("passages", where, ["paper_id"])}

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        rows = self.visible(self.get("passages", [int(i) for i in ids], PASSAGE_FIELDS))
        return {row["id"]: passage_from_row(row) for row in rows}

    def passage_rows(self, where: str, fields: list[str]) -> list[dict]:
        """Visible passage rows matching a filter expression ("" = all)."""
        return self.visible(self.query("passages", where, fields))

    def paper_passages(self, paper_id: str) -> list[Passage]:
        rows = self.passage_rows(f"paper_id == {quote(paper_id)}", PASSAGE_FIELDS)
        rows.sort(key=lambda r: (r["kind"] == "pdf", max(r["page"], 0), *self.order(r)))
        return [passage_from_row(row) for row in rows]

    def passage_documents(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        fields = ["id", "source_id", "version", "header", "text"]
        rows = self.visible(self.get("passages", [int(i) for i in ids], fields))
        return {row["id"]: (row["header"], row["text"]) for row in rows}

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str | None]]:
        """Every passage's (id, header + text, lang), in ingest order."""
        fields = ["id", "source_id", "version", "ordinal", "header", "text", "lang"]
        rows = sorted(self.passage_rows("", fields), key=self.order)
        for row in rows:
            yield row["id"], embed_text(row["header"], row["text"]), row["lang"] or None

    def all_passage_parts(self) -> list[tuple[int, str, str]]:
        """(id, header, text) of every passage, in ingest order: what an embedder
        formats to re-embed."""
        fields = ["id", "source_id", "version", "ordinal", "header", "text"]
        rows = sorted(self.passage_rows("", fields), key=self.order)
        return [(row["id"], row["header"], row["text"]) for row in rows]

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]:
        """Every paper by title, or these papers in the order given (unknown ids skipped)."""
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
            f"paper_id == {quote(ref)} or arxiv_id == {quote(bare)} "
            f"or title_key == {quote(ref.lower())}"
        )
        rows = self.visible(self.query("mentions", where, ["paper_id", "source_id", "version"]))
        for record in self.papers(sorted({r["paper_id"] for r in rows})):
            if ref == record.id or record.arxiv_id == bare or record.title.lower() == ref.lower():
                return record
        return None

    def counts(self) -> dict:
        """What the library holds: papers, passages, sources, PDFs, kinds, languages."""
        fields = ["id", "source_id", "version", "paper_id", "kind", "lang", "page"]
        rows = self.passage_rows("", fields)
        sources = self.sources()
        pdf = [r for r in rows if r["kind"] == "pdf"]
        return {
            "papers": len({r["paper_id"] for r in rows}),
            "passages": len(rows),
            "sources": sum(s.status == "ok" for s in sources),
            "failed_sources": sum(s.status == "failed" for s in sources),
            "pdf_papers": len({r["paper_id"] for r in pdf}),
            "pdf_pages": len({(r["paper_id"], r["page"]) for r in pdf}),
            "passages_by_kind": dict(Counter(r["kind"] for r in rows)),
            "languages": dict(Counter(r["lang"] or "unknown" for r in rows)),
        }

    def _paper_records(self, where: str) -> dict[str, PaperRecord]:
        """Papers with visible passages, merged from their sources' mentions in the order
        the sources were first seen (as the default backend merges them)."""
        fields = ["paper_id", "source_id", "version", "doc"]
        mentions = self.visible(self.query("mentions", where, fields))
        passages = self.passage_rows(
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
            record = merged_paper(paper_id, docs.get(paper_id, []))
            if record is None:
                continue
            record.n_passages = len(rows)
            record.languages = sorted({r["lang"] for r in rows if r["lang"]})
            record.sources = sorted({uris[r["source_id"]] for r in rows if r["source_id"] in uris})
            record.has_pdf = any(r["kind"] == "pdf" for r in rows)
            records[paper_id] = record
        return records

    # ---- Milvus calls ----------------------------------------------------------------------

    def get(self, collection: str, ids: list, fields: list[str]) -> list[dict]:
        found = []
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            found += self.client.get(self.names[collection], ids=chunk, output_fields=fields)
        return [dict(r) for r in found]

    def query(self, collection: str, where: str, fields: list[str]) -> list[dict]:
        return [r for batch in self.scan(collection, where, fields) for r in batch]

    def scan(self, collection: str, where: str, fields: list[str]) -> Iterator[list[dict]]:
        """Every matching row, SCAN_BATCH at a time (a plain query stops at 16,384)."""
        iterator = self.client.query_iterator(
            self.names[collection], batch_size=SCAN_BATCH, filter=where, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield [dict(r) for r in batch]
        finally:
            iterator.close()

    def upsert(self, collection: str, rows: list[dict]) -> None:
        for start in range(0, len(rows), BATCH):
            self.client.upsert(self.names[collection], rows[start : start + BATCH])

    def search(
        self, collection: str, field: str, vectors: list, limit: int, fields: list[str]
    ) -> list[list[dict]]:
        """Inner-product search; each hit as {distance, **fields} (name the key in `fields`)."""
        results = self.client.search(
            self.names[collection],
            data=vectors,
            anns_field=field,
            limit=max(1, min(limit, 16_384)),  # Milvus's largest limit
            output_fields=fields,
            search_params={"metric_type": "IP"},
        )
        return [[{"distance": h["distance"], **h["entity"]} for h in hits] for hits in results]


def _manifest(model_name: str, dim: int) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "embedding_model": model_name,
        "dim": dim,
        "normalized": "l2",
    }
