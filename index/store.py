"""The catalog (SQLite) and the vectors (FAISS) on disk, kept consistent.

Why vectors live twice: each passage's vector is stored as a blob in its
SQLite row, in the same transaction as the row itself. SQLite's commit is
therefore the single commit point of an ingest: the row and its vector land
together or not at all. The FAISS files are a derived, rebuildable cache,
written to a temp file and renamed atomically, and stamped with the catalog's
generation; if a crash leaves them behind the catalog, they are rebuilt from
the blobs on the next open.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from index.hits import Passage
from index.vectors import LanguageCentering, load_or_build
from ingest.errors import PaperlensError
from ingest.models import PaperDoc, SourceDoc

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS papers (
    id TEXT PRIMARY KEY,
    arxiv_id TEXT,
    title TEXT NOT NULL,
    titles TEXT NOT NULL DEFAULT '{}',
    authors TEXT NOT NULL DEFAULT '[]',
    published TEXT,
    abstract TEXT,
    links TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    sha256 TEXT,
    title TEXT,
    status TEXT NOT NULL,
    error TEXT,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY,
    paper_id TEXT NOT NULL REFERENCES papers(id),
    source_id INTEGER NOT NULL REFERENCES sources(id),
    kind TEXT NOT NULL,
    lang TEXT,
    page INTEGER,
    header TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_paper ON passages(paper_id);
CREATE INDEX IF NOT EXISTS passages_source ON passages(source_id);
CREATE TABLE IF NOT EXISTS embed_cache (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""


class IndexMismatchError(PaperlensError):
    """The index on disk was built with another embedding model."""


@dataclass(frozen=True)
class NewPassage:
    """A passage about to be stored: `header` is the paper context embedded with it."""

    paper_id: str
    kind: str
    lang: str | None
    page: int | None
    header: str
    text: str
    start: int
    end: int

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}" if self.header else self.text


@dataclass
class PaperRecord:
    """A paper as the catalog knows it, merged over every source that names it."""

    id: str
    arxiv_id: str | None
    title: str
    titles: dict[str, str]
    authors: list[str]
    published: str | None
    abstract: str | None
    links: dict[str, str]
    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    n_passages: int = 0
    has_pdf: bool = False

    @property
    def url(self) -> str | None:
        links = self.links
        return links.get("paper") or links.get("pdf") or next(iter(links.values()), None)


@dataclass(frozen=True)
class SourceRecord:
    id: int
    uri: str
    kind: str
    sha256: str | None
    title: str | None
    status: str
    error: str | None
    ingested_at: str


class Store:
    """One data directory: `catalog.sqlite` + `passages.faiss` + `papers.faiss`."""

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
        self.home.mkdir(parents=True, exist_ok=True)
        self.model_name = model_name
        self.dim = dim
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.home / "catalog.sqlite", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        if verify:
            self._check_manifest()
        self._passage_index: faiss.IndexIDMap2 | None = None
        self._paper_index: faiss.IndexIDMap2 | None = None
        self._paper_ids: list[str] = []
        self.center_languages = center_languages
        self._centering: LanguageCentering | None = None

    # ---- manifest -------------------------------------------------------------

    def _check_manifest(self) -> None:
        meta = self.manifest()
        if "embedding_model" not in meta:
            with self._db:
                self._set_meta(
                    schema_version=SCHEMA_VERSION,
                    embedding_model=self.model_name,
                    dim=self.dim,
                    normalized="l2",
                    generation=0,
                )
            return
        if int(meta.get("schema_version", 0)) != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the catalog in {self.home} has schema {meta.get('schema_version')}, "
                f"this paperlens needs {SCHEMA_VERSION}: run `paperlens reindex`"
            )
        if meta["embedding_model"] != self.model_name or int(meta["dim"]) != self.dim:
            raise IndexMismatchError(
                f"the index in {self.home} was built with {meta['embedding_model']} "
                f"({meta['dim']} dims), not {self.model_name} ({self.dim} dims): "
                "run `paperlens reindex` to rebuild it with the current model"
            )

    @classmethod
    def open_for_reindex(cls, home: Path) -> Store:
        """Open whatever model the index was built with, to re-embed it."""
        store = cls(home, model_name="", dim=0, verify=False)
        meta = store.manifest()
        store.model_name = meta.get("embedding_model", "")
        store.dim = int(meta.get("dim", 0))
        return store

    def manifest(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self._db.execute("SELECT key, value FROM meta")}

    def _set_meta(self, **values: object) -> None:
        self._db.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(k, str(v)) for k, v in values.items()],
        )

    @property
    def generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row["value"]) if row else 0

    # ---- writes ---------------------------------------------------------------

    def source(self, uri: str) -> SourceRecord | None:
        row = self._db.execute("SELECT * FROM sources WHERE uri = ?", (uri,)).fetchone()
        return SourceRecord(**dict(row)) if row else None

    def replace_source(
        self,
        source: SourceDoc,
        passages: list[NewPassage],
        vectors: np.ndarray,
    ) -> int:
        """Store a source's papers and passages, replacing what it gave before.

        One transaction: a crash leaves either the old source or the new one.
        Returns the number of passages stored.
        """
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage")
        now = _now()
        with self._lock, self._db:
            old_id = self._delete_source_passages(source.uri)
            source_id = self._upsert_source(old_id, source, now)
            for paper in source.papers:
                self._upsert_paper(paper, now)
            rows = [
                (
                    source_id,
                    p.paper_id,
                    p.kind,
                    p.lang,
                    p.page,
                    p.header,
                    p.text,
                    p.start,
                    p.end,
                    np.asarray(vec, dtype=np.float32).tobytes(),
                )
                for p, vec in zip(passages, vectors, strict=True)
            ]
            self._db.executemany(
                "INSERT INTO passages(source_id, paper_id, kind, lang, page, header, text, "
                "start, end, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._delete_orphan_papers()
            self._bump_generation()
        self._invalidate()
        return len(rows)

    def record_failure(self, uri: str, kind: str, error: str) -> None:
        """Remember a failed source (its earlier good passages, if any, stay)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO sources(uri, kind, status, error, ingested_at) "
                "VALUES (?, ?, 'failed', ?, ?) ON CONFLICT(uri) DO UPDATE SET "
                "status = CASE WHEN sources.sha256 IS NULL THEN 'failed' ELSE sources.status END, "
                "error = excluded.error",
                (uri, kind, error, _now()),
            )

    def replace_vectors(
        self, ids: list[int], vectors: np.ndarray, *, model_name: str, dim: int
    ) -> None:
        """Swap every passage vector and the manifest's model in one transaction."""
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE passages SET vector = ? WHERE id = ?",
                [
                    (np.asarray(v, dtype=np.float32).tobytes(), int(i))
                    for i, v in zip(ids, vectors, strict=True)
                ],
            )
            self._set_meta(
                schema_version=SCHEMA_VERSION,
                embedding_model=model_name,
                dim=dim,
                normalized="l2",
            )
            self._bump_generation()
        self.model_name, self.dim = model_name, dim
        self._invalidate()

    def all_embed_texts(self) -> list[tuple[int, str]]:
        return [(pid, text) for pid, text, _ in self.iter_passage_texts()]

    def delete_paper(self, paper_id: str) -> bool:
        with self._lock, self._db:
            self._db.execute("DELETE FROM passages WHERE paper_id = ?", (paper_id,))
            deleted = self._db.execute("DELETE FROM papers WHERE id = ?", (paper_id,)).rowcount
            self._bump_generation()
        self._invalidate()
        return bool(deleted)

    def _delete_source_passages(self, uri: str) -> int | None:
        row = self._db.execute("SELECT id FROM sources WHERE uri = ?", (uri,)).fetchone()
        if row is None:
            return None
        self._db.execute("DELETE FROM passages WHERE source_id = ?", (row["id"],))
        return int(row["id"])

    def _upsert_source(self, old_id: int | None, source: SourceDoc, now: str) -> int:
        if old_id is None:
            cur = self._db.execute(
                "INSERT INTO sources(uri, kind, sha256, title, status, error, ingested_at) "
                "VALUES (?, ?, ?, ?, 'ok', NULL, ?)",
                (source.uri, source.kind, source.sha256, source.title, now),
            )
            return int(cur.lastrowid)
        self._db.execute(
            "UPDATE sources SET kind = ?, sha256 = ?, title = ?, status = 'ok', error = NULL, "
            "ingested_at = ? WHERE id = ?",
            (source.kind, source.sha256, source.title, now, old_id),
        )
        return old_id

    def _upsert_paper(self, doc: PaperDoc, now: str) -> None:
        row = self._db.execute("SELECT * FROM papers WHERE id = ?", (doc.paper_id,)).fetchone()
        merged = _merge_paper(_record_from_row(row) if row else None, doc)
        self._db.execute(
            "INSERT INTO papers(id, arxiv_id, title, titles, authors, published, abstract, links, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "arxiv_id = excluded.arxiv_id, title = excluded.title, titles = excluded.titles, "
            "authors = excluded.authors, published = excluded.published, "
            "abstract = excluded.abstract, links = excluded.links, "
            "updated_at = excluded.updated_at",
            (
                merged.id,
                merged.arxiv_id,
                merged.title,
                json.dumps(merged.titles, ensure_ascii=False),
                json.dumps(merged.authors, ensure_ascii=False),
                merged.published,
                merged.abstract,
                json.dumps(merged.links, ensure_ascii=False),
                now,
            ),
        )

    def _delete_orphan_papers(self) -> None:
        self._db.execute(
            "DELETE FROM papers WHERE id NOT IN (SELECT DISTINCT paper_id FROM passages)"
        )

    def _bump_generation(self) -> None:
        self._set_meta(generation=self.generation + 1)

    # ---- embedding cache ----------------------------------------------------------

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT key, vector FROM embed_cache WHERE key IN ({marks})", chunk
            ):
                found[row["key"]] = np.frombuffer(row["vector"], dtype=np.float32)
        return found

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Committed batch by batch, so an interrupted ingest resumes where it stopped."""
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO embed_cache(key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    # ---- reads ----------------------------------------------------------------

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        ids = [int(i) for i in ids]
        found: dict[int, Passage] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                "SELECT id, paper_id, source_id, kind, lang, page, text, start, end "
                f"FROM passages WHERE id IN ({marks})",
                chunk,
            ):
                found[row["id"]] = Passage(**dict(row))
        return found

    def paper_passages(self, paper_id: str) -> list[Passage]:
        rows = self._db.execute(
            "SELECT id, paper_id, source_id, kind, lang, page, text, start, end FROM passages "
            "WHERE paper_id = ? ORDER BY kind = 'pdf', COALESCE(page, 0), id",
            (paper_id,),
        )
        return [Passage(**dict(row)) for row in rows]

    def passage_documents(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(header, text) of each passage: what was embedded, titles as they were then."""
        ids = [int(i) for i in ids]
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT id, header, text FROM passages WHERE id IN ({marks})", chunk
            ):
                found[row["id"]] = (row["header"], row["text"])
        return found

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str | None]]:
        """(id, header + text, lang) for every passage, for the lexical index."""
        for row in self._db.execute("SELECT id, header, text, lang FROM passages ORDER BY id"):
            text = f"{row['header']}\n{row['text']}" if row["header"] else row["text"]
            yield row["id"], text, row["lang"]

    def paper(self, paper_id: str) -> PaperRecord | None:
        row = self._db.execute("SELECT * FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return self._with_counts(_record_from_row(row)) if row else None

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]:
        if ids is None:
            rows = self._db.execute("SELECT * FROM papers ORDER BY title").fetchall()
        else:
            wanted = list(dict.fromkeys(ids))
            marks = ",".join("?" * len(wanted))
            rows = self._db.execute(f"SELECT * FROM papers WHERE id IN ({marks})", wanted)
            by_id = {row["id"]: row for row in rows}
            rows = [by_id[i] for i in wanted if i in by_id]
        return [self._with_counts(_record_from_row(row)) for row in rows]

    def find_paper(self, ref: str) -> PaperRecord | None:
        """A paper by catalog id, arXiv id (any version) or exact title."""
        ref = ref.strip()
        bare = ref.removeprefix("arxiv:").removeprefix("arXiv:").split("v")[0]
        row = self._db.execute(
            "SELECT * FROM papers WHERE id = ? OR arxiv_id = ? OR lower(title) = lower(?)",
            (ref, bare, ref),
        ).fetchone()
        return self._with_counts(_record_from_row(row)) if row else None

    def sources(self) -> list[SourceRecord]:
        rows = self._db.execute("SELECT * FROM sources ORDER BY ingested_at DESC").fetchall()
        return [SourceRecord(**dict(row)) for row in rows]

    def source_uris(self, source_ids: Iterable[int]) -> dict[int, str]:
        ids = list(set(source_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT id, uri FROM sources WHERE id IN ({marks})", ids)
        return {row["id"]: row["uri"] for row in rows}

    def stats(self) -> dict:
        one = lambda sql: self._db.execute(sql).fetchone()[0]  # noqa: E731
        languages = {
            row[0] or "unknown": row[1]
            for row in self._db.execute("SELECT lang, COUNT(*) FROM passages GROUP BY lang")
        }
        kinds = {
            row[0]: row[1]
            for row in self._db.execute("SELECT kind, COUNT(*) FROM passages GROUP BY kind")
        }
        index_files = [self.home / "passages.faiss", self.home / "catalog.sqlite"]
        return {
            "papers": one("SELECT COUNT(*) FROM papers"),
            "passages": one("SELECT COUNT(*) FROM passages"),
            "sources": one("SELECT COUNT(*) FROM sources WHERE status = 'ok'"),
            "failed_sources": one("SELECT COUNT(*) FROM sources WHERE status = 'failed'"),
            "pdf_papers": one("SELECT COUNT(DISTINCT paper_id) FROM passages WHERE kind = 'pdf'"),
            "pdf_pages": one(
                "SELECT COUNT(*) FROM (SELECT DISTINCT paper_id, page FROM passages "
                "WHERE kind = 'pdf')"
            ),
            "passages_by_kind": kinds,
            "languages": languages,
            "model": self.model_name,
            "dim": self.dim,
            "index_bytes": sum(p.stat().st_size for p in index_files if p.exists()),
            "home": str(self.home),
        }

    def _with_counts(self, record: PaperRecord) -> PaperRecord:
        rows = self._db.execute(
            "SELECT p.lang, p.kind, s.uri FROM passages p JOIN sources s ON s.id = p.source_id "
            "WHERE p.paper_id = ?",
            (record.id,),
        ).fetchall()
        record.n_passages = len(rows)
        record.languages = sorted({r["lang"] for r in rows if r["lang"]})
        record.sources = sorted({r["uri"] for r in rows})
        record.has_pdf = any(r["kind"] == "pdf" for r in rows)
        return record

    # ---- vectors ----------------------------------------------------------------

    def search_passages(
        self, query: np.ndarray, k: int, lang: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k passage ids and cosine scores for a query vector in language `lang`."""
        index = self.passage_index()
        if index.ntotal == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = index.search(self.center(query, lang), min(k, index.ntotal))
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        """A query-side vector in the same (language-centered) space as the index."""
        row = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if not self.center_languages:
            return np.ascontiguousarray(row)
        self.passage_index()
        return self._centering.apply(row, [lang])

    def passage_index(self) -> faiss.IndexIDMap2:
        with self._lock:
            if self._passage_index is None:
                centering_file = self.home / "passages.centering.npz"
                index = self._load_or_build("passages.faiss", self._centered_passage_vectors)
                if self._centering is None:  # the index was current on disk
                    try:
                        self._centering = LanguageCentering.load(centering_file)
                    except (OSError, ValueError, KeyError):
                        (self.home / "passages.json").unlink(missing_ok=True)
                        index = self._load_or_build(
                            "passages.faiss", self._centered_passage_vectors
                        )
                self._passage_index = index
            return self._passage_index

    def paper_index(self) -> tuple[faiss.IndexIDMap2, list[str]]:
        """Paper-level vectors (mean of a paper's passages), ids = row in `paper ids`."""
        with self._lock:
            if self._paper_index is None:
                self._paper_ids = self._paper_order()
                self._paper_index = self._load_or_build("papers.faiss", self._paper_vectors)
            return self._paper_index, self._paper_ids

    def passage_vectors(self, paper_id: str) -> tuple[list[int], np.ndarray]:
        """A paper's passage ids and their (centered) vectors, to explain similarity."""
        rows = self._db.execute(
            "SELECT id, lang, vector FROM passages WHERE paper_id = ? ORDER BY id", (paper_id,)
        ).fetchall()
        vectors = _stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows], self.dim)
        return [r["id"] for r in rows], self._center_rows(vectors, [r["lang"] for r in rows])

    def paper_vector(self, paper_id: str) -> np.ndarray | None:
        _, vectors = self.passage_vectors(paper_id)
        return _normalized_mean(list(vectors)) if len(vectors) else None

    def _center_rows(self, vectors: np.ndarray, langs: list[str | None]) -> np.ndarray:
        if not self.center_languages:
            return vectors
        self.passage_index()
        return self._centering.apply(vectors, langs)

    def _load_or_build(self, name: str, build) -> faiss.IndexIDMap2:
        stamp_model = self.model_name + ("+centered" if self.center_languages else "")
        return load_or_build(
            self.home / name,
            generation=self.generation,
            model=stamp_model,
            dim=self.dim,
            build=build,
        )

    def _raw_passage_vectors(self) -> tuple[np.ndarray, np.ndarray, list, list[str]]:
        """(ids, vectors, languages, paper ids) of every passage, in one catalog pass."""
        rows = self._db.execute(
            "SELECT id, lang, paper_id, vector FROM passages ORDER BY id"
        ).fetchall()
        ids = np.array([r["id"] for r in rows], dtype=np.int64)
        vectors = _stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows], self.dim)
        return ids, vectors, [r["lang"] for r in rows], [r["paper_id"] for r in rows]

    def _centered_passage_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        ids, vectors, langs, _ = self._raw_passage_vectors()
        self._centering = LanguageCentering.fit(vectors, langs)
        self._centering.save(self.home / "passages.centering.npz")
        if not self.center_languages:
            return ids, vectors
        return ids, self._centering.apply(vectors, langs)

    def _paper_order(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM papers ORDER BY id")]

    def _paper_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        _, vectors, langs, papers = self._raw_passage_vectors()
        vectors = self._center_rows(vectors, langs)
        by_paper: dict[str, list[np.ndarray]] = {}
        for paper_id, vector in zip(papers, vectors, strict=True):
            by_paper.setdefault(paper_id, []).append(vector)
        empty = [np.zeros(self.dim, dtype=np.float32)]
        order = self._paper_ids
        vectors = _stack([_normalized_mean(by_paper.get(pid) or empty) for pid in order], self.dim)
        return np.arange(len(order), dtype=np.int64), vectors

    def _invalidate(self) -> None:
        with self._lock:
            self._passage_index = None
            self._paper_index = None
            self._centering = None

    def close(self) -> None:
        self._db.close()


# ---- helpers -------------------------------------------------------------------


def _merge_paper(old: PaperRecord | None, doc: PaperDoc) -> PaperRecord:
    """Fold what one source says about a paper into what the catalog knew."""
    if old is None:
        return PaperRecord(
            id=doc.paper_id,
            arxiv_id=doc.arxiv_id,
            title=doc.title,
            titles=dict(doc.titles),
            authors=list(doc.authors),
            published=doc.published,
            abstract=doc.abstract,
            links=dict(doc.links),
        )
    titles = {**doc.titles, **old.titles}
    # An English title (from arXiv or a bilingual digest) beats a translated one.
    new_is_english = "en" in doc.titles and doc.titles["en"] == doc.title
    title = doc.title if new_is_english and "en" not in old.titles else old.title
    return PaperRecord(
        id=old.id,
        arxiv_id=old.arxiv_id or doc.arxiv_id,
        title=title,
        titles=titles,
        authors=old.authors or list(doc.authors),
        published=old.published or doc.published,
        abstract=old.abstract or doc.abstract,
        links={**doc.links, **old.links},
    )


def _record_from_row(row: sqlite3.Row) -> PaperRecord:
    return PaperRecord(
        id=row["id"],
        arxiv_id=row["arxiv_id"],
        title=row["title"],
        titles=json.loads(row["titles"]),
        authors=json.loads(row["authors"]),
        published=row["published"],
        abstract=row["abstract"],
        links=json.loads(row["links"]),
    )


def _normalized_mean(vectors: list[np.ndarray]) -> np.ndarray:
    if not vectors:
        return np.zeros(0, dtype=np.float32)
    mean = np.mean(np.vstack(vectors), axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).astype(np.float32)


def _stack(vectors: list[np.ndarray], dim: int) -> np.ndarray:
    if not vectors:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.vstack(vectors).astype(np.float32))


def _row(vector: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
