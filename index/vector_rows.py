"""The catalog's rows the vector indexes are derived from: passage vectors, the
per-language running sums, the frozen centering, and the change log.

SQL only; index/vector_index.py decides what to build from them. The sums are
kept by the catalog's writes (`add_sums`, inside their transaction), so the
language means are known without reading a million vectors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import numpy as np

from paperlens.index.catalog_schema import read_meta, set_meta
from paperlens.index.sqlite_db import Connections, select_in

BUILD_CHUNK = 50_000  # rows read at a time by a full scan (a million never sit in memory)

# (ids, vectors, languages) of passages, or of anything keyed like them.
VectorRows = tuple[np.ndarray, np.ndarray, list[str | None]]


def add_sums(
    db: sqlite3.Connection, langs: list[str | None], blobs: list[bytes], sign: int
) -> None:
    """Add (sign=+1) or remove (-1) vectors from their language's running sum
    (inside the caller's transaction)."""
    by_lang: dict[str, list[bytes]] = {}
    for lang, blob in zip(langs, blobs, strict=True):
        by_lang.setdefault(lang or "", []).append(blob)
    for lang, group in by_lang.items():
        total = np.frombuffer(b"".join(group), dtype=np.float32).reshape(len(group), -1)
        row = db.execute("SELECT n, total FROM lang_sums WHERE lang = ?", (lang,)).fetchone()
        n, old = (row["n"], np.frombuffer(row["total"], np.float32)) if row else (0, 0.0)
        new = (old + sign * total.sum(axis=0, dtype=np.float64)).astype(np.float32)
        db.execute(
            "INSERT OR REPLACE INTO lang_sums(lang, n, total) VALUES (?, ?, ?)",
            (lang, n + sign * len(group), new.tobytes()),
        )


class VectorTables:
    """Reads (and the few writes) of the vector side of the catalog; `dim()` is the
    current vector width (it changes when `reindex` swaps the model)."""

    def __init__(self, connections: Connections, dim: Callable[[], int]) -> None:
        self._connections = connections
        self._connect = connections.get
        self._dim = dim

    # ---- passage vectors ------------------------------------------------------------

    def passage_vectors(self, ids: list[int]) -> VectorRows:
        rows = select_in(
            self._connect(), "SELECT id, lang, vector FROM passages WHERE id IN ({marks})", ids
        )
        return self._unpack(rows)

    def paper_passage_vectors(self, paper_id: str) -> VectorRows:
        rows = self._connect().execute(
            "SELECT id, lang, vector FROM passages WHERE paper_id = ? ORDER BY id", (paper_id,)
        )
        return self._unpack(rows.fetchall())

    def scan(self) -> Iterator[VectorRows]:
        """Every passage's vector, in id order, BUILD_CHUNK rows at a time."""
        last = -1
        while True:
            rows = (
                self._connect()
                .execute(
                    "SELECT id, lang, vector FROM passages WHERE id > ? ORDER BY id LIMIT ?",
                    (last, BUILD_CHUNK),
                )
                .fetchall()
            )
            if not rows:
                return
            last = rows[-1]["id"]
            yield self._unpack(rows)

    def count(self) -> int:
        row = self._connect().execute("SELECT SUM(n) FROM lang_sums").fetchone()
        return int(row[0] or 0)

    # ---- papers (keyed by rowid, the change log's paper key) ------------------------

    def paper_keys(self, keys: list[int] | None = None) -> dict[int, str]:
        """{rowid: paper id} of these keys (every paper's without them)."""
        db = self._connect()
        if keys is None:
            rows = db.execute("SELECT rowid, id FROM papers ORDER BY rowid").fetchall()
        else:
            rows = select_in(db, "SELECT rowid, id FROM papers WHERE rowid IN ({marks})", keys)
        return {row[0]: row[1] for row in rows}

    def papers_vectors(self, paper_ids: list[str]) -> dict[str, VectorRows]:
        """Each paper's passage vectors."""
        rows = select_in(
            self._connect(),
            "SELECT paper_id, id, lang, vector FROM passages WHERE paper_id IN ({marks})",
            paper_ids,
        )
        grouped: dict[str, list] = {}
        for row in rows:
            grouped.setdefault(row["paper_id"], []).append(tuple(row)[1:])
        return {paper_id: self._unpack(group) for paper_id, group in grouped.items()}

    def paper_count(self) -> int:
        return int(self._connect().execute("SELECT COUNT(*) FROM papers").fetchone()[0])

    # ---- language sums and the frozen centering -------------------------------------

    def sums(self) -> dict[str, tuple[int, np.ndarray]]:
        """{language ("" = unknown): (passages, vector sum)}, recounted if never counted."""
        if self._meta("lang_sums") != "ok":
            with self._connections.transaction() as db:
                recount_sums(db, self)
        return {
            row["lang"]: (row["n"], np.frombuffer(row["total"], dtype=np.float32))
            for row in self._connect().execute("SELECT lang, n, total FROM lang_sums WHERE n > 0")
        }

    def frozen_centering(self) -> list[tuple[str, bytes]]:
        return [(r[0], r[1]) for r in self._connect().execute("SELECT lang, mean FROM centering")]

    def freeze(self, centering: list[tuple[str, bytes]], build: int, spec_json: str) -> None:
        """Commit a new build: its language means and index spec, in one transaction."""
        with self._connections.transaction() as db:
            db.execute("DELETE FROM centering")
            db.executemany("INSERT INTO centering VALUES (?, ?)", centering)
            set_meta(db, vector_build=build, vector_index=spec_json)

    def build(self) -> int:
        return int(self._meta("vector_build") or 0)

    def spec_json(self) -> str | None:
        return self._meta("vector_index")

    # ---- the change log (index/sync.py replays it) -----------------------------------

    def log_bounds(self) -> tuple[int, int]:
        """(last seq ever written, lowest seq still kept)."""
        row = (
            self._connect()
            .execute(
                "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'changes'), "
                "(SELECT MIN(seq) FROM changes)"
            )
            .fetchone()
        )
        head = int(row[0] or 0)
        return head, int(row[1] if row[1] is not None else head + 1)

    def changed_keys(self, column: str, after: int, through: int) -> list[int]:
        """Distinct `passage_id`s or `paper_key`s changed in (after, through]."""
        if column not in ("passage_id", "paper_key"):
            raise ValueError(f"no change-log column {column!r}")
        rows = self._connect().execute(
            f"SELECT DISTINCT {column} FROM changes WHERE seq > ? AND seq <= ?", (after, through)
        )
        return [r[0] for r in rows if r[0] is not None]

    def trim_log(self, through: int) -> None:
        """Drop the changes every checkpoint already covers."""
        with self._connections.transaction() as db:
            db.execute("DELETE FROM changes WHERE seq <= ?", (through,))

    def _meta(self, key: str) -> str | None:
        return read_meta(self._connect()).get(key)

    def _unpack(self, rows: list) -> VectorRows:
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        dim = self._dim()
        vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32)
        vectors = vectors.reshape(len(rows), dim) if rows else np.zeros((0, dim), np.float32)
        return ids, vectors, [r[1] for r in rows]


def recount_sums(db: sqlite3.Connection, tables: VectorTables) -> None:
    """Per-language vector sums from every passage (inside the caller's transaction)."""
    db.execute("DELETE FROM lang_sums")
    for _ids, vectors, langs in tables.scan():
        add_sums(db, langs, [v.tobytes() for v in vectors], +1)
    set_meta(db, lang_sums="ok")
