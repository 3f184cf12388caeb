"""SQLite plumbing the catalog and the lexical index share: one connection per
thread, and `WHERE id IN (...)` queries over any number of ids."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# SQLite caps the number of `?` in one statement (32,766 today, 999 before 3.32).
IN_CHUNK = 500
# How long a connection waits for another process's write lock before "busy".
BUSY_TIMEOUT_S = 30.0


class Connections:
    """Per-thread connections to one database file (sqlite3 connections must not
    be shared across threads), all closed together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[sqlite3.Connection] = []
        # One writer at a time in this process: its threads queue here, without the
        # busy timeout's bound, rather than on the database's write lock.
        self.write_lock = threading.RLock()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (WAL, rows addressable by column name)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            db.row_factory = sqlite3.Row
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
            with self._lock:
                self._open.append(db)
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection inside one write transaction (committed on exit).

        The transaction takes the database's write lock when it begins (IMMEDIATE):
        Python's sqlite3 would begin it only at the first write, so what it read
        before (is this source known?) could change under it, another process
        committing in between (two `paperlens ingest` into one library). A
        transaction opened inside another on this thread joins it: the outer one
        commits or rolls back the work of both.
        """
        with self.write_lock:
            db = self.get()
            if db.in_transaction:
                yield db
                return
            with db:
                db.execute("BEGIN IMMEDIATE")
                yield db

    def close_all(self) -> None:
        with self._lock:
            for db in self._open:
                db.close()
            self._open.clear()
            self._local = threading.local()


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the database in WAL mode, waiting for other processes as any write does.

    Switching a new database to WAL needs it to itself and fails at once, ignoring
    the busy timeout, while another process does the same (two `paperlens ingest`
    started together on a new library), so the switch is retried here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def chunks(values: Iterable, size: int = IN_CHUNK) -> Iterator[tuple[list, str]]:
    """(chunk, "?,?,...") pairs covering `values`, for `IN (...)` statements."""
    values = list(values)
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield chunk, ",".join("?" * len(chunk))


def select_in(
    db: sqlite3.Connection, sql: str, values: Iterable, before: Sequence = ()
) -> list[sqlite3.Row]:
    """Rows of `sql` (whose `{marks}` is the IN list) over every value, chunk by chunk;
    `before` are the arguments of placeholders ahead of the IN list."""
    rows: list[sqlite3.Row] = []
    for chunk, marks in chunks(values):
        rows += db.execute(sql.format(marks=marks), [*before, *chunk]).fetchall()
    return rows
