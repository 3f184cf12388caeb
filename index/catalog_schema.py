"""The catalog's SQLite schema, its in-place migrations, its manifest (`meta`), and
its `papers` rows read as records."""

from __future__ import annotations

import json
import sqlite3

from paperlens.index import lexical
from paperlens.index.records import PaperRecord, paper_fields

SCHEMA_VERSION = 4

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
CREATE TABLE IF NOT EXISTS mentions (
    source_id INTEGER NOT NULL,
    paper_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    PRIMARY KEY (source_id, paper_id)
);
CREATE INDEX IF NOT EXISTS mentions_paper ON mentions(paper_id);
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


# 4: what each source says about a paper (`mentions`), so a paper's record is merged
# from the sources it still has. An older catalog kept only the merged record: each
# source with passages of a paper is taken to have said all of it, until it is
# ingested again.
def _mentions_from_merged_papers(db: sqlite3.Connection) -> None:
    for row in db.execute("SELECT * FROM papers").fetchall():
        db.execute(
            "INSERT OR IGNORE INTO mentions(source_id, paper_id, fields) "
            "SELECT DISTINCT source_id, paper_id, ? FROM passages WHERE paper_id = ?",
            (json.dumps(paper_fields(paper_record(row)), ensure_ascii=False), row["id"]),
        )


FILLS = {4: _mentions_from_merged_papers}


def migrate(db: sqlite3.Connection) -> None:
    """Bring an older catalog up to SCHEMA_VERSION in place (inside the caller's
    transaction); a catalog from a newer paperlens is left for the manifest check."""
    version = read_meta(db).get("schema_version")
    if version is None or int(version) >= SCHEMA_VERSION:
        return
    for step in range(int(version) + 1, SCHEMA_VERSION + 1):
        for table, column, kind in MIGRATIONS.get(step, []):
            columns = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
            if column not in columns:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        if step in FILLS:
            FILLS[step](db)
    set_meta(db, schema_version=SCHEMA_VERSION)


def paper_record(row: sqlite3.Row) -> PaperRecord:
    """A `papers` row as the record both backends hand back."""
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


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    return {row["key"]: row["value"] for row in db.execute("SELECT key, value FROM meta")}


def set_meta(db: sqlite3.Connection, **values: object) -> None:
    """Upsert manifest entries (inside the caller's transaction)."""
    db.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(k, str(v)) for k, v in values.items()],
    )
