"""The catalog (SQLite, WAL): papers, sources, passages and their vectors, the
embedding cache, and the manifest. The single commit point of an ingest.

Each passage's vector is stored as a blob in its row, in the same transaction
as the row itself, its lexical postings (index/lexical.py), its language's
running vector sum (index/vector_rows.py) and a change-log row (SQLite
triggers). The vector indexes are derived from it (index/vector_index.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from paperlens.index import lexical
from paperlens.index.catalog_schema import (
    SCHEMA,
    SCHEMA_VERSION,
    migrate,
    paper_record,
    read_meta,
    set_meta,
)
from paperlens.index.hits import Passage
from paperlens.index.records import (
    ForgottenSource,
    IndexMismatchError,
    NewPassage,
    PaperRecord,
    SourceRecord,
    arxiv_ref,
    embed_text,
    merge_paper,
    merged_paper,
    paper_fields,
)
from paperlens.index.sqlite_db import Connections, select_in
from paperlens.index.vector_rows import BUILD_CHUNK, VectorTables, add_sums, recount_sums
from paperlens.ingest.documents import PaperDoc, SourceDoc

PASSAGE_COLUMNS = "id, paper_id, source_id, kind, lang, page, text, start, end"


class Catalog:
    """`catalog.sqlite` in one data directory; safe to use from several threads."""

    def __init__(self, home: Path, *, dim: int = 0) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.connections = Connections(self.home / "catalog.sqlite")
        self.dim = dim
        self.vectors = VectorTables(self.connections, lambda: self.dim)
        db = self.connections.get()
        db.executescript(SCHEMA)
        with self.connections.transaction() as db:
            migrate(db)

    @property
    def _db(self) -> sqlite3.Connection:
        return self.connections.get()

    # ---- manifest -------------------------------------------------------------

    def manifest(self) -> dict[str, str]:
        return read_meta(self._db)

    @property
    def generation(self) -> int:
        """Bumped by every write; lets a reader tell whether the library changed."""
        return int(self.manifest().get("generation", 0))

    def check_manifest(self, model_name: str, dim: int) -> None:
        """Stamp a new catalog with the model, or refuse one built by another model
        or by a newer paperlens (one line naming what to do)."""
        meta = self.manifest()
        if "embedding_model" not in meta:
            with self.connections.transaction() as db:
                _stamp_model(db, model_name, dim)
                set_meta(db, generation=0)
            return
        if int(meta.get("schema_version", 0)) != SCHEMA_VERSION:
            raise IndexMismatchError(
                f"the catalog in {self.home} has schema {meta.get('schema_version')}, "
                f"newer than this paperlens ({SCHEMA_VERSION}): upgrade paperlens"
            )
        if meta["embedding_model"] != model_name or int(meta["dim"]) != dim:
            raise IndexMismatchError(
                f"the index in {self.home} was built with {meta['embedding_model']} "
                f"({meta['dim']} dims), not {model_name} ({dim} dims): "
                "run `paperlens reindex` to rebuild it with the current model (or set "
                "PAPERLENS_EMBEDDING_MODEL to the model it was built with)"
            )

    # ---- writes ---------------------------------------------------------------

    def replace_source(
        self, source: SourceDoc, passages: list[NewPassage], vectors: np.ndarray
    ) -> None:
        """Store a source's papers and passages, replacing what it gave before; each
        paper's record is merged again from what its sources now say.

        A paper whose passages from this source are exactly as before keeps them
        (their ids, which citations name, and their index entries): a digest that
        gained a week changes only the new week's passages. One transaction: a
        crash leaves either the old source or the new one.
        """
        if len(passages) != len(vectors):
            raise ValueError("one vector per passage")
        now = _now()
        with self.connections.transaction() as db:
            row = db.execute("SELECT id FROM sources WHERE uri = ?", (source.uri,)).fetchone()
            old_id = row[0] if row else None
            kept = self._unchanged_papers(old_id, passages) if old_id is not None else set()
            if old_id is not None:
                marks = ",".join("?" * len(kept))
                spare = f" AND paper_id NOT IN ({marks})" if kept else ""
                self._delete_passages(db, f"source_id = ?{spare}", (old_id, *kept))
            source_id = self._upsert_source(db, old_id, source, now)
            said_before = _replace_mentions(db, source_id, source.papers)
            _merge_papers(db, said_before | {p.paper_id for p in source.papers}, now)
            fresh = [i for i, p in enumerate(passages) if p.paper_id not in kept]
            self._insert_passages(
                db, source_id, [passages[i] for i in fresh], np.asarray(vectors)[fresh]
            )
            self._delete_orphan_papers(db)
            self._bump_generation(db)

    def delete_paper(self, paper_id: str) -> bool:
        with self.connections.transaction() as db:
            self._delete_passages(db, "paper_id = ?", (paper_id,))
            db.execute("DELETE FROM mentions WHERE paper_id = ?", (paper_id,))
            deleted = db.execute("DELETE FROM papers WHERE id = ?", (paper_id,)).rowcount
            self._bump_generation(db)
        return bool(deleted)

    def forget_source(self, uri: str) -> ForgottenSource | None:
        """Remove a source, its passages and the papers left without any, in one
        transaction (a crash leaves the library as it was before the call); the papers
        other sources also give keep only what those say (titles, links, abstract)."""
        with self.connections.transaction() as db:
            row = db.execute("SELECT id, status FROM sources WHERE uri = ?", (uri,)).fetchone()
            if row is None:
                return None
            passages = self._delete_passages(db, "source_id = ?", (row["id"],))
            said = _replace_mentions(db, row["id"], [])
            db.execute("DELETE FROM sources WHERE id = ?", (row["id"],))
            _merge_papers(db, said, _now())
            papers = self._delete_orphan_papers(db)
            self._bump_generation(db)
        return ForgottenSource(uri, row["status"], passages, papers)

    def record_failure(self, uri: str, kind: str, error: str) -> None:
        """Remember a failed source (its earlier good passages, if any, stay)."""
        with self.connections.transaction() as db:
            db.execute(
                "INSERT INTO sources(uri, kind, status, error, ingested_at) "
                "VALUES (?, ?, 'failed', ?, ?) ON CONFLICT(uri) DO UPDATE SET "
                "status = CASE WHEN sources.sha256 IS NULL THEN 'failed' ELSE sources.status END, "
                "error = excluded.error",
                (uri, kind, error, _now()),
            )

    def set_validators(
        self, uri: str, etag: str | None, last_modified: str | None, *, checked: bool = True
    ) -> None:
        """Remember a URL source's HTTP validators (and that it was just checked: a
        successful check also clears the error of an earlier failed one)."""
        with self.connections.transaction() as db:
            db.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, "
                "checked_at = CASE WHEN ? THEN ? ELSE checked_at END, "
                "error = CASE WHEN ? AND status = 'ok' THEN NULL ELSE error END WHERE uri = ?",
                (etag, last_modified, checked, _now(), checked, uri),
            )

    def replace_vectors(
        self, ids: list[int], vectors: np.ndarray, *, model_name: str, dim: int
    ) -> None:
        """Swap every passage vector and the manifest's model in one transaction."""
        with self.connections.transaction() as db:
            db.executemany(
                "UPDATE passages SET vector = ? WHERE id = ?",
                [
                    (np.asarray(v, dtype=np.float32).tobytes(), int(i))
                    for i, v in zip(ids, vectors, strict=True)
                ],
            )
            _stamp_model(db, model_name, dim)
            self._bump_generation(db)
            self.dim = dim
            recount_sums(db, self.vectors)

    def catch_up_lexical(self) -> None:
        """Index passages written without postings (catalogs from before FTS, bulk loads)."""
        while True:
            through = int(self.manifest().get("lexical_through", -1))
            rows = self._db.execute(
                "SELECT id, header, text FROM passages WHERE id > ? ORDER BY id LIMIT ?",
                (through, BUILD_CHUNK),
            ).fetchall()
            if not rows:
                return
            with self.connections.transaction() as db:
                lexical.add_passages(
                    db, [(r["id"], embed_text(r["header"], r["text"])) for r in rows]
                )
                set_meta(db, lexical_through=rows[-1]["id"])

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
        self, db: sqlite3.Connection, source_id: int, passages: list[NewPassage], vectors
    ) -> None:
        """Rows, postings and language sums of new passages (inside the caller's transaction)."""
        texts, langs, blobs = [], [], []
        first = _next_passage_id(db)
        for n, (p, vec) in enumerate(zip(passages, vectors, strict=True)):
            blob = np.asarray(vec, dtype=np.float32).tobytes()
            cur = db.execute(
                "INSERT INTO passages(id, source_id, paper_id, kind, lang, page, header, "
                "text, start, end, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    first + n,
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
        lexical.add_passages(db, texts)
        add_sums(db, langs, blobs, +1)
        if texts:
            through = int(read_meta(db).get("lexical_through", -1))
            set_meta(db, lexical_through=max(through, texts[-1][0]), last_passage_id=texts[-1][0])

    def _delete_passages(self, db: sqlite3.Connection, where: str, args: tuple) -> int:
        """Delete passages with their postings and language sums (caller's transaction);
        returns how many."""
        rows = db.execute(f"SELECT id, lang, vector FROM passages WHERE {where}", args).fetchall()
        if not rows:
            return 0
        lexical.remove_passages(db, [r["id"] for r in rows])
        add_sums(db, [r["lang"] for r in rows], [r["vector"] for r in rows], -1)
        db.execute(f"DELETE FROM passages WHERE {where}", args)
        return len(rows)

    @staticmethod
    def _delete_orphan_papers(db: sqlite3.Connection) -> int:
        """Papers no passage points to any more (caller's transaction); returns how many."""
        return db.execute(
            "DELETE FROM papers WHERE id NOT IN (SELECT DISTINCT paper_id FROM passages)"
        ).rowcount

    @staticmethod
    def _upsert_source(
        db: sqlite3.Connection, old_id: int | None, source: SourceDoc, now: str
    ) -> int:
        warnings = json.dumps(source.warnings, ensure_ascii=False)
        if old_id is None:
            cur = db.execute(
                "INSERT INTO sources(uri, kind, sha256, title, status, error, ingested_at, "
                "warnings) VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?)",
                (source.uri, source.kind, source.sha256, source.title, now, warnings),
            )
            return int(cur.lastrowid)
        db.execute(
            "UPDATE sources SET kind = ?, sha256 = ?, title = ?, status = 'ok', error = NULL, "
            "ingested_at = ?, warnings = ? WHERE id = ?",
            (source.kind, source.sha256, source.title, now, warnings, old_id),
        )
        return old_id

    @staticmethod
    def _bump_generation(db: sqlite3.Connection) -> None:
        set_meta(db, generation=int(read_meta(db).get("generation", 0)) + 1)

    # ---- embedding cache ----------------------------------------------------------

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        rows = select_in(
            self._db, "SELECT key, vector FROM embed_cache WHERE key IN ({marks})", keys
        )
        return {row["key"]: np.frombuffer(row["vector"], dtype=np.float32) for row in rows}

    def cache_vectors(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Committed batch by batch, so an interrupted ingest resumes where it stopped."""
        with self.connections.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO embed_cache(key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    # ---- reads ----------------------------------------------------------------

    def source(self, uri: str) -> SourceRecord | None:
        row = self._db.execute("SELECT * FROM sources WHERE uri = ?", (uri,)).fetchone()
        return _source_record(row) if row else None

    def sources(self) -> list[SourceRecord]:
        rows = self._db.execute("SELECT * FROM sources ORDER BY ingested_at DESC").fetchall()
        return [_source_record(row) for row in rows]

    def source_uris(self, source_ids: Iterable[int]) -> dict[int, str]:
        rows = select_in(
            self._db, "SELECT id, uri FROM sources WHERE id IN ({marks})", set(source_ids)
        )
        return {row["id"]: row["uri"] for row in rows}

    def source_paper_ids(self, uri: str) -> set[str]:
        """The papers a source contributes passages to."""
        rows = self._db.execute(
            "SELECT DISTINCT p.paper_id FROM passages p JOIN sources s ON s.id = p.source_id "
            "WHERE s.uri = ?",
            (uri,),
        )
        return {row[0] for row in rows}

    def source_passage_counts(self) -> dict[str, int]:
        """Passages each source holds now, by URI."""
        rows = self._db.execute(
            "SELECT s.uri, COUNT(*) FROM passages p JOIN sources s ON s.id = p.source_id "
            "GROUP BY s.uri"
        )
        return {row[0]: row[1] for row in rows}

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        rows = select_in(
            self._db,
            f"SELECT {PASSAGE_COLUMNS} FROM passages WHERE id IN ({{marks}})",
            [int(i) for i in ids],
        )
        return {row["id"]: Passage(**dict(row)) for row in rows}

    def paper_passages(self, paper_id: str) -> list[Passage]:
        rows = self._db.execute(
            f"SELECT {PASSAGE_COLUMNS} FROM passages "
            "WHERE paper_id = ? ORDER BY kind = 'pdf', COALESCE(page, 0), id",
            (paper_id,),
        )
        return [Passage(**dict(row)) for row in rows]

    def passage_documents(self, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(header, text) of each passage: what was embedded, titles as they were then."""
        rows = select_in(
            self._db,
            "SELECT id, header, text FROM passages WHERE id IN ({marks})",
            [int(i) for i in ids],
        )
        return {row["id"]: (row["header"], row["text"]) for row in rows}

    def all_passage_parts(self) -> list[tuple[int, str, str]]:
        """(id, header, text) of every passage: what an embedder formats to re-embed."""
        rows = self._db.execute("SELECT id, header, text FROM passages ORDER BY id")
        return [(int(r["id"]), r["header"], r["text"]) for r in rows]

    def iter_passage_texts(self) -> Iterator[tuple[int, str, str | None]]:
        """(id, header + text, lang) for every passage, in id order."""
        for row in self._db.execute("SELECT id, header, text, lang FROM passages ORDER BY id"):
            yield row["id"], embed_text(row["header"], row["text"]), row["lang"]

    def source_passages(self, uri: str) -> tuple[list[NewPassage], np.ndarray]:
        """A source's passages as they were stored, with their vectors, in id order."""
        rows = self._db.execute(
            "SELECT p.paper_id, p.kind, p.lang, p.page, p.header, p.text, p.start, p.end, "
            "p.vector FROM passages p JOIN sources s ON s.id = p.source_id WHERE s.uri = ? "
            "ORDER BY p.id",
            (uri,),
        ).fetchall()
        passages = [NewPassage(*tuple(row)[:8]) for row in rows]
        vectors = np.frombuffer(b"".join(row["vector"] for row in rows), dtype=np.float32)
        return passages, vectors.reshape(len(rows), self.dim) if rows else vectors

    def source_papers(self, uri: str) -> list[PaperRecord]:
        """What one source says about each of its papers, under the ids they are stored by."""
        rows = self._db.execute(
            "SELECT m.paper_id, m.fields FROM mentions m JOIN sources s ON s.id = m.source_id "
            "WHERE s.uri = ? ORDER BY m.paper_id",
            (uri,),
        )
        said = (merged_paper(r["paper_id"], [json.loads(r["fields"])]) for r in rows)
        return [record for record in said if record is not None]

    def iter_cached_vectors(self, batch: int = 1000) -> Iterator[list[tuple[str, np.ndarray]]]:
        """The whole embedding cache, `batch` entries at a time."""
        last = ""
        while True:
            rows = self._db.execute(
                "SELECT key, vector FROM embed_cache WHERE key > ? ORDER BY key LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1]["key"]
            yield [(r["key"], np.frombuffer(r["vector"], dtype=np.float32)) for r in rows]

    def paper(self, paper_id: str) -> PaperRecord | None:
        row = self._db.execute("SELECT * FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return self._with_counts(paper_record(row)) if row else None

    def papers(self, ids: Iterable[str] | None = None) -> list[PaperRecord]:
        """Every paper by title, or these papers in the order given (unknown ids skipped)."""
        if ids is None:
            rows = self._db.execute("SELECT * FROM papers ORDER BY title").fetchall()
        else:
            wanted = list(dict.fromkeys(ids))
            found = select_in(self._db, "SELECT * FROM papers WHERE id IN ({marks})", wanted)
            by_id = {row["id"]: row for row in found}
            rows = [by_id[i] for i in wanted if i in by_id]
        return [self._with_counts(paper_record(row)) for row in rows]

    def find_paper(self, ref: str) -> PaperRecord | None:
        """A paper by catalog id, arXiv id (any version) or exact title."""
        ref = ref.strip()
        row = self._db.execute(
            "SELECT * FROM papers WHERE id = ? OR arxiv_id = ? OR lower(title) = lower(?)",
            (ref, arxiv_ref(ref), ref),
        ).fetchone()
        return self._with_counts(paper_record(row)) if row else None

    def counts(self) -> dict:
        """What the library holds: papers, passages, sources, PDFs, kinds, languages."""
        one = lambda sql: self._db.execute(sql).fetchone()[0]  # noqa: E731
        languages = {
            row[0] or "unknown": row[1]
            for row in self._db.execute("SELECT lang, COUNT(*) FROM passages GROUP BY lang")
        }
        kinds = {
            row[0]: row[1]
            for row in self._db.execute("SELECT kind, COUNT(*) FROM passages GROUP BY kind")
        }
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

    def close(self) -> None:
        self.connections.close_all()


def _replace_mentions(db: sqlite3.Connection, source_id: int, papers: list[PaperDoc]) -> set[str]:
    """Store what a source says about each of its papers (several entries of one paper
    merged in order), in place of what it said before; returns the papers it named
    before (caller's transaction)."""
    before = {
        r[0] for r in db.execute("SELECT paper_id FROM mentions WHERE source_id = ?", (source_id,))
    }
    db.execute("DELETE FROM mentions WHERE source_id = ?", (source_id,))
    said: dict[str, PaperRecord] = {}
    for paper in papers:
        said[paper.paper_id] = merge_paper(said.get(paper.paper_id), paper)
    db.executemany(
        "INSERT INTO mentions(source_id, paper_id, fields) VALUES (?, ?, ?)",
        [
            (source_id, paper_id, json.dumps(paper_fields(record), ensure_ascii=False))
            for paper_id, record in said.items()
        ],
    )
    return before


def _merge_papers(db: sqlite3.Connection, paper_ids: Iterable[str], now: str) -> None:
    """Write each paper's record merged from its sources' mentions, oldest source first
    (caller's transaction); a paper no source mentions is left to the orphan sweep."""
    for paper_id in paper_ids:
        rows = db.execute(
            "SELECT fields FROM mentions WHERE paper_id = ? ORDER BY source_id", (paper_id,)
        )
        merged = merged_paper(paper_id, (json.loads(r[0]) for r in rows))
        if merged is None:
            continue
        db.execute(
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


def _source_record(row: sqlite3.Row) -> SourceRecord:
    return SourceRecord(**{**dict(row), "warnings": json.loads(row["warnings"] or "[]")})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stamp_model(db: sqlite3.Connection, model_name: str, dim: int) -> None:
    """The manifest's record of what the vectors are: the model, its dimensions, L2-normalized."""
    set_meta(
        db, schema_version=SCHEMA_VERSION, embedding_model=model_name, dim=dim, normalized="l2"
    )


def _next_passage_id(db: sqlite3.Connection) -> int:
    """The id after every one ever given, so no id is reused: a citation kept in a chat
    or by an MCP client still names its passage (or none) after its source is forgotten
    or re-ingested. SQLite alone would reuse the ids of the newest rows once deleted;
    `lexical_through` stands in for catalogs written before `last_passage_id`."""
    meta = read_meta(db)
    given = max(int(meta.get("last_passage_id", 0)), int(meta.get("lexical_through", 0)))
    stored = db.execute("SELECT COALESCE(MAX(id), 0) FROM passages").fetchone()[0]
    return max(given, stored) + 1
