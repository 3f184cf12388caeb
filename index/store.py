"""The catalog (SQLite) and the vectors (FAISS) on disk, kept consistent.

Why vectors live twice: each passage's vector is stored as a blob in its
SQLite row, in the same transaction as the row itself, its lexical postings
(FTS5, index/lexical.py), its language's running vector sum and a change-log
row. SQLite's commit is therefore the single commit point of an ingest.
The FAISS files are checkpoints derived from it (index/sync.py): updated in
memory from the change log after each commit, written atomically now and
then, and caught up from the log when opened, never rebuilt whole unless
missing or after an explicit rebuild (`paperlens reindex`, re-centering).

Language centering is frozen into an index build (the `centering` table);
the catalog keeps running per-language sums, and when the current means
drift more than `DRIFT_TOLERANCE` from the frozen ones a small (flat) index
is rebuilt with fresh means; a large one reports the drift in `stats()` and
is re-centered by `rebuild_index()` / `paperlens reindex`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index import lexical
from index.hits import Passage
from index.lexical import LexicalIndex
from index.sync import BUILD_CHUNK, SyncedIndex, Vectors
from index.vectors import FLAT_LIMIT, AnnIndex, IndexSpec, LanguageCentering
from ingest.errors import PaperlensError
from ingest.models import PaperDoc, SourceDoc

SCHEMA_VERSION = 3

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
    ingested_at TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    checked_at TEXT,
    warnings TEXT NOT NULL DEFAULT '[]'
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
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    passage_id INTEGER NOT NULL,
    paper_key INTEGER
);
CREATE TRIGGER IF NOT EXISTS passage_added AFTER INSERT ON passages BEGIN
    INSERT INTO changes(passage_id, paper_key)
    VALUES (new.id, (SELECT rowid FROM papers WHERE id = new.paper_id));
END;
CREATE TRIGGER IF NOT EXISTS passage_removed AFTER DELETE ON passages BEGIN
    INSERT INTO changes(passage_id, paper_key)
    VALUES (old.id, (SELECT rowid FROM papers WHERE id = old.paper_id));
END;
CREATE TRIGGER IF NOT EXISTS passage_vector_changed AFTER UPDATE OF vector ON passages BEGIN
    INSERT INTO changes(passage_id, paper_key)
    VALUES (new.id, (SELECT rowid FROM papers WHERE id = new.paper_id));
END;
CREATE TABLE IF NOT EXISTS lang_sums (lang TEXT PRIMARY KEY, n INTEGER NOT NULL, total BLOB);
CREATE TABLE IF NOT EXISTS centering (lang TEXT PRIMARY KEY, mean BLOB NOT NULL);
"""
SCHEMA += lexical.SCHEMA

# In-place upgrades of an older catalog: version -> (table, column, type) to add.
# 2: each source keeps its HTTP validators and when it was last checked, so
# `paperlens refresh` can ask "changed since?" (index/refresh.py).
# 3: each source keeps its last ingest's warnings (entries skipped, by name), shown in
# the Library tab's Problems column.
MIGRATIONS: dict[int, list[tuple[str, str, str]]] = {
    2: [
        ("sources", "etag", "TEXT"),
        ("sources", "last_modified", "TEXT"),
        ("sources", "checked_at", "TEXT"),
    ],
    3: [("sources", "warnings", "TEXT NOT NULL DEFAULT '[]'")],
}

DRIFT_TOLERANCE = 0.02  # largest move of a language mean before a small index is re-centered


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
    etag: str | None = None  # HTTP validators from the last fetch (URL sources)
    last_modified: str | None = None
    checked_at: str | None = None  # last time `refresh` asked the server
    warnings: list[str] = field(default_factory=list)  # what its last ingest lost, by name


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
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._db.executescript(SCHEMA)
        self._migrate()
        if verify:
            self._check_manifest()
        self.center_languages = center_languages
        self._passages: SyncedIndex | None = None
        self._papers: SyncedIndex | None = None
        self._centering: LanguageCentering | None = None
        self._build = -1
        self._rebuild_lock = threading.Lock()
        self.lexical = LexicalIndex(lambda: self._db)
        if verify:
            self._catch_up_lexical()

    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not be shared across threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.home / "catalog.sqlite", timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    # ---- manifest -------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring an older catalog up to SCHEMA_VERSION in place (one transaction);
        a catalog from a newer paperlens is left alone for `_check_manifest` to refuse."""
        version = self.manifest().get("schema_version")
        if version is None or int(version) >= SCHEMA_VERSION:
            return
        with self._lock, self._db:
            for step in range(int(version) + 1, SCHEMA_VERSION + 1):
                for table, column, kind in MIGRATIONS.get(step, []):
                    columns = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
                    if column not in columns:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            self._set_meta(schema_version=SCHEMA_VERSION)

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
                f"newer than this paperlens ({SCHEMA_VERSION}): upgrade paperlens"
            )
        if meta["embedding_model"] != self.model_name or int(meta["dim"]) != self.dim:
            raise IndexMismatchError(
                f"the index in {self.home} was built with {meta['embedding_model']} "
                f"({meta['dim']} dims), not {self.model_name} ({self.dim} dims): "
                "run `paperlens reindex` to rebuild it with the current model (or set "
                f"PAPERLENS_EMBEDDING_MODEL to the model it was built with)"
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
        return _source_record(row) if row else None

    def replace_source(
        self,
        source: SourceDoc,
        passages: list[NewPassage],
        vectors: np.ndarray,
    ) -> int:
        """Store a source's papers and passages, replacing what it gave before.

        A paper whose passages from this source are exactly as before keeps them
        (their ids, which citations name, and their index entries): a digest that
        gained a week changes only the new week's passages. One transaction: a
        crash leaves either the old source or the new one. Returns the number of
        passages the source now has.
        """
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage")
        now = _now()
        with self._lock, self._db:
            row = self._db.execute("SELECT id FROM sources WHERE uri = ?", (source.uri,))
            old_id = (row.fetchone() or [None])[0]
            kept = self._unchanged_papers(old_id, passages) if old_id is not None else set()
            if old_id is not None:
                marks = ",".join("?" * len(kept))
                spare = f" AND paper_id NOT IN ({marks})" if kept else ""
                self._delete_passages(f"source_id = ?{spare}", (old_id, *kept))
            source_id = self._upsert_source(old_id, source, now)
            self._db.execute(
                "UPDATE sources SET warnings = ? WHERE id = ?",
                (json.dumps(source.warnings, ensure_ascii=False), source_id),
            )
            for paper in source.papers:
                self._upsert_paper(paper, now)
            fresh = [i for i, p in enumerate(passages) if p.paper_id not in kept]
            self._insert_passages(
                source_id, [passages[i] for i in fresh], np.asarray(vectors)[fresh]
            )
            self._delete_orphan_papers()
            self._bump_generation()
        self._after_write()
        return len(passages)

    def _unchanged_papers(self, source_id: int, passages: list[NewPassage]) -> set[str]:
        """Papers whose passages from this source would be stored exactly as they are."""
        old: dict[str, list[tuple]] = {}
        for row in self._db.execute(
            "SELECT paper_id, kind, lang, page, header, text, start, end FROM passages "
            "WHERE source_id = ? ORDER BY id",
            (source_id,),
        ):
            old.setdefault(row["paper_id"], []).append(tuple(row))
        new: dict[str, list[tuple]] = {}
        for p in passages:
            new.setdefault(p.paper_id, []).append(
                (p.paper_id, p.kind, p.lang, p.page, p.header, p.text, p.start, p.end)
            )
        return {paper_id for paper_id, rows in new.items() if old.get(paper_id) == rows}

    def _insert_passages(
        self, source_id: int, passages: list[NewPassage], vectors: np.ndarray
    ) -> None:
        """Rows, postings and language sums of new passages (inside the caller's transaction)."""
        texts, langs, blobs = [], [], []
        for p, vec in zip(passages, vectors, strict=True):
            blob = np.asarray(vec, dtype=np.float32).tobytes()
            cur = self._db.execute(
                "INSERT INTO passages(source_id, paper_id, kind, lang, page, header, text, "
                "start, end, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    blob,
                ),
            )
            texts.append((int(cur.lastrowid), p.embed_text))
            langs.append(p.lang)
            blobs.append(blob)
        lexical.add_passages(self._db, texts)
        self._add_sums(langs, blobs, +1)
        if texts:
            self._set_meta(lexical_through=max(self._lexical_through(), texts[-1][0]))

    def _delete_passages(self, where: str, args: tuple) -> None:
        """Delete passages with their postings and language sums (caller's transaction)."""
        rows = self._db.execute(f"SELECT id, lang, vector FROM passages WHERE {where}", args)
        rows = rows.fetchall()
        if not rows:
            return
        lexical.remove_passages(self._db, [r["id"] for r in rows])
        self._add_sums([r["lang"] for r in rows], [r["vector"] for r in rows], -1)
        self._db.execute(f"DELETE FROM passages WHERE {where}", args)

    def _add_sums(self, langs: list[str | None], blobs: list[bytes], sign: int) -> None:
        by_lang: dict[str, list[bytes]] = {}
        for lang, blob in zip(langs, blobs, strict=True):
            by_lang.setdefault(lang or "", []).append(blob)
        for lang, group in by_lang.items():
            total = np.frombuffer(b"".join(group), dtype=np.float32).reshape(len(group), -1)
            row = self._db.execute(
                "SELECT n, total FROM lang_sums WHERE lang = ?", (lang,)
            ).fetchone()
            n, old = (row["n"], np.frombuffer(row["total"], np.float32)) if row else (0, 0.0)
            new = (old + sign * total.sum(axis=0, dtype=np.float64)).astype(np.float32)
            self._db.execute(
                "INSERT OR REPLACE INTO lang_sums(lang, n, total) VALUES (?, ?, ?)",
                (lang, n + sign * len(group), new.tobytes()),
            )

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None:
        """Remember a URL source's HTTP validators (and that it was just checked: a
        successful check also clears the error of an earlier failed one)."""
        with self._lock, self._db:
            self._db.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, "
                "checked_at = CASE WHEN ? THEN ? ELSE checked_at END, "
                "error = CASE WHEN ? AND status = 'ok' THEN NULL ELSE error END WHERE uri = ?",
                (etag, last_modified, checked, _now(), checked, uri),
            )

    def source_paper_ids(self, uri: str) -> set[str]:
        """The papers a source contributes passages to."""
        rows = self._db.execute(
            "SELECT DISTINCT p.paper_id FROM passages p JOIN sources s ON s.id = p.source_id "
            "WHERE s.uri = ?",
            (uri,),
        )
        return {row[0] for row in rows}

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
            self._recount_sums()
        self.model_name, self.dim = model_name, dim
        self.rebuild_index()

    def all_embed_texts(self) -> list[tuple[int, str]]:
        return [(pid, text) for pid, text, _ in self.iter_passage_texts()]

    def all_passage_parts(self) -> list[tuple[int, str, str]]:
        """(id, header, text) of every passage: what an embedder formats to re-embed."""
        rows = self._db.execute("SELECT id, header, text FROM passages ORDER BY id")
        return [(int(r["id"]), r["header"], r["text"]) for r in rows]

    def delete_paper(self, paper_id: str) -> bool:
        with self._lock, self._db:
            self._delete_passages("paper_id = ?", (paper_id,))
            deleted = self._db.execute("DELETE FROM papers WHERE id = ?", (paper_id,)).rowcount
            self._bump_generation()
        self._after_write()
        return bool(deleted)

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
        return [
            _source_record(row) for row in rows
        ]

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
        index_files = [self.home / "catalog.sqlite", *self.home.glob("passages.*.faiss")]
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
            **self.index_stats(),
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
        scores, ids = index.search(self.center(query, lang), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def center(self, vector: np.ndarray, lang: str | None) -> np.ndarray:
        """A query-side vector in the same (language-centered) space as the index."""
        row = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        return self._center_rows(row, [lang])

    def passage_index(self) -> AnnIndex:
        """The passage index, caught up with the catalog (cheap when nothing changed)."""
        self._open_vectors()
        return self._passages.current()

    def paper_index(self) -> tuple[AnnIndex, dict[int, str]]:
        """Paper-level vectors (mean of a paper's passages), ids = key in `paper ids`."""
        self._open_vectors()
        with self._lock:
            if self._papers is None:
                self._papers = self._synced_papers(self._build, self._centering)
            papers = self._papers
        keys = {row[0]: row[1] for row in self._db.execute("SELECT rowid, id FROM papers")}
        return papers.current(), keys

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

    def rebuild_index(self, spec: IndexSpec | None = None) -> IndexSpec:
        """A new index build: fresh language means, index type chosen by size, trained.

        The explicit step behind `paperlens reindex`; searches keep using the
        previous build until the new one is committed.
        """
        with self._rebuild_lock:
            centering = self._fresh_centering()
            build = int(self.manifest().get("vector_build", 0)) + 1
            synced = self._synced_passages(build, centering)
            spec = synced.rebuild(spec).spec
            with self._lock, self._db:
                self._db.execute("DELETE FROM centering")
                self._db.executemany("INSERT INTO centering VALUES (?, ?)", centering.to_rows())
                self._set_meta(vector_build=build, vector_index=spec.to_json())
                self._passages, self._papers = synced, None
                self._centering, self._build = centering, build
            keep = {
                f"{name}.{build}.{ext}"
                for name in ("passages", "papers")
                for ext in ("faiss", "json")
            }
            for old in [*self.home.glob("passages.*"), *self.home.glob("papers.*")]:
                if old.name not in keep:  # earlier builds, and the files of the old design
                    old.unlink(missing_ok=True)
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
            with self._lock, self._db:
                self._db.execute("DELETE FROM changes WHERE seq <= ?", (min(seqs),))

    def index_stats(self) -> dict:
        """Index type, and how far the language means moved since the index was built."""
        meta = self.manifest()
        frozen = self._frozen_centering()
        drift = frozen.drift(self._fresh_centering()) if self.center_languages else 0.0
        return {
            "vector_index": json.loads(meta.get("vector_index", "null") or "null"),
            "centering_drift": round(drift, 4),
        }

    def _open_vectors(self) -> None:
        """Load the current build's indexes (catching up), or make the first build."""
        build = int(self.manifest().get("vector_build", 0))
        with self._lock:
            if self._passages is not None and build == self._build:
                return
            if build:
                self._centering = self._frozen_centering()
                self._passages = self._synced_passages(build, self._centering)
                self._papers, self._build = None, build
        if not build or self._drifted():
            self.rebuild_index()

    def _after_write(self) -> None:
        """Apply the commit to the loaded index; re-center a small library that drifted."""
        with self._lock:
            loaded = self._passages is not None
        if loaded:
            self.passage_index()
            if self._drifted():
                self.rebuild_index()

    def _drifted(self) -> bool:
        if not self.center_languages or self._count() > FLAT_LIMIT:
            return False  # a large index is re-centered by an explicit rebuild
        return self._frozen_centering().drift(self._fresh_centering()) > DRIFT_TOLERANCE

    def _stamp(self, build: int) -> dict:
        return {
            "model": self.model_name + ("+centered" if self.center_languages else ""),
            "build": build,
        }

    def _synced_passages(self, build: int, centering: LanguageCentering) -> SyncedIndex:
        def fetch(keys: list[int]) -> Vectors:
            rows = []
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(
                    f"SELECT id, lang, vector FROM passages WHERE id IN ({marks})", chunk
                ).fetchall()
            return self._centered(rows, centering)

        def scan() -> Iterator[Vectors]:
            for rows in self._vector_chunks():
                yield self._centered(rows, centering)

        return SyncedIndex(
            path=self.home / f"passages.{build}.faiss",
            stamp=self._stamp(build),
            dim=self.dim,
            key="passage_id",
            connect=lambda: self._db,
            fetch=fetch,
            scan=scan,
            count=self._count,
        )

    def _synced_papers(self, build: int, centering: LanguageCentering) -> SyncedIndex:
        def vectors_of(papers: list[sqlite3.Row]) -> Vectors:
            by_id = {row["id"]: row["rowid"] for row in papers}
            ids = list(by_id)
            marks = ",".join("?" * len(ids))
            rows = self._db.execute(
                f"SELECT paper_id, lang, vector FROM passages WHERE paper_id IN ({marks})", ids
            ).fetchall()
            grouped: dict[str, list] = {}
            for row in rows:
                grouped.setdefault(row["paper_id"], []).append(row)
            keys, means = [], []
            for paper_id, group in grouped.items():
                _, centered = self._centered(
                    [(0, r["lang"], r["vector"]) for r in group], centering
                )
                keys.append(by_id[paper_id])
                means.append(_normalized_mean(list(centered)))
            return np.array(keys, dtype=np.int64), _stack(means, self.dim)

        def fetch(keys: list[int]) -> Vectors:
            found = [np.zeros(0, np.int64)], [np.zeros((0, self.dim), np.float32)]
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                papers = self._db.execute(
                    f"SELECT rowid, id FROM papers WHERE rowid IN ({marks})", chunk
                ).fetchall()
                if papers:
                    ids, vectors = vectors_of(papers)
                    found[0].append(ids)
                    found[1].append(vectors)
            return np.concatenate(found[0]), np.vstack(found[1])

        def scan() -> Iterator[Vectors]:
            papers = self._db.execute("SELECT rowid, id FROM papers ORDER BY rowid").fetchall()
            for start in range(0, len(papers), 500):
                yield vectors_of(papers[start : start + 500])

        return SyncedIndex(
            path=self.home / f"papers.{build}.faiss",
            stamp=self._stamp(build),
            dim=self.dim,
            key="paper_key",
            connect=lambda: self._db,
            fetch=fetch,
            scan=scan,
            count=lambda: self._db.execute("SELECT COUNT(*) FROM papers").fetchone()[0],
        )

    def _centered(self, rows, centering: LanguageCentering) -> Vectors:
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32)
        vectors = vectors.reshape(len(rows), self.dim) if rows else np.zeros((0, self.dim))
        if self.center_languages:
            vectors = centering.apply(vectors, [r[1] for r in rows])
        return ids, np.ascontiguousarray(vectors, dtype=np.float32)

    def _center_rows(self, vectors: np.ndarray, langs: list[str | None]) -> np.ndarray:
        if not self.center_languages:
            return np.ascontiguousarray(vectors, dtype=np.float32)
        self._open_vectors()
        return self._centering.apply(vectors, langs)

    def _count(self) -> int:
        row = self._db.execute("SELECT SUM(n) FROM lang_sums").fetchone()
        return int(row[0] or 0)

    def _sums(self) -> dict[str, tuple[int, np.ndarray]]:
        if self.manifest().get("lang_sums") != "ok":
            with self._lock, self._db:
                self._recount_sums()
        return {
            row["lang"]: (row["n"], np.frombuffer(row["total"], dtype=np.float32))
            for row in self._db.execute("SELECT lang, n, total FROM lang_sums WHERE n > 0")
        }

    def _recount_sums(self) -> None:
        """Per-language vector sums from every passage (inside the caller's transaction)."""
        self._db.execute("DELETE FROM lang_sums")
        for rows in self._vector_chunks():
            self._add_sums([r["lang"] for r in rows], [r["vector"] for r in rows], +1)
        self._set_meta(lang_sums="ok")

    def _vector_chunks(self) -> Iterator[list[sqlite3.Row]]:
        """Every passage's (id, lang, vector), in id order, BUILD_CHUNK rows at a time
        (a million vectors never sit in memory at once)."""
        last = -1
        while True:
            rows = self._db.execute(
                "SELECT id, lang, vector FROM passages WHERE id > ? ORDER BY id LIMIT ?",
                (last, BUILD_CHUNK),
            ).fetchall()
            if not rows:
                return
            last = rows[-1]["id"]
            yield rows

    def _fresh_centering(self) -> LanguageCentering:
        return LanguageCentering.from_sums(self._sums(), self.dim)

    def _frozen_centering(self) -> LanguageCentering:
        rows = self._db.execute("SELECT lang, mean FROM centering").fetchall()
        return LanguageCentering.from_rows([(r[0], r[1]) for r in rows], self.dim)

    def _file_seq(self, name: str) -> int | None:
        try:
            return int(json.loads((self.home / name).read_text())["seq"])
        except (OSError, ValueError, KeyError):
            return None

    def _lexical_through(self) -> int:
        return int(self.manifest().get("lexical_through", -1))

    def _catch_up_lexical(self) -> None:
        """Index passages written without postings (catalogs from before FTS, bulk loads)."""
        while True:
            through = self._lexical_through()
            rows = self._db.execute(
                "SELECT id, header, text FROM passages WHERE id > ? ORDER BY id LIMIT ?",
                (through, BUILD_CHUNK),
            ).fetchall()
            if not rows:
                return
            texts = [
                (r["id"], f"{r['header']}\n{r['text']}" if r["header"] else r["text"]) for r in rows
            ]
            with self._lock, self._db:
                lexical.add_passages(self._db, texts)
                self._set_meta(lexical_through=rows[-1]["id"])

    def close(self) -> None:
        """Checkpoint the vector indexes and close every thread's connection."""
        self.checkpoint()
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
            self._local = threading.local()


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


def _source_record(row: sqlite3.Row) -> SourceRecord:
    return SourceRecord(**{**dict(row), "warnings": json.loads(row["warnings"] or "[]")})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
