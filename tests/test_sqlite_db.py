"""Two processes on one library's catalog, each with its own connection."""

from __future__ import annotations

import sqlite3
import threading
import time

from paperlens.index.sqlite_db import Connections


def test_a_new_database_waits_for_another_process_holding_it(tmp_path):
    path = tmp_path / "catalog.sqlite"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process creating the database
    other.execute("CREATE TABLE papers (title TEXT)")
    released = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    released.start()
    # The switch to WAL ignores SQLite's busy timeout: without a wait of its own
    # this connection fails at once with "database is locked".
    ours = Connections(path)
    with ours.transaction() as db:
        db.execute("INSERT INTO papers VALUES ('ours')")
    released.join()
    assert [r[0] for r in ours.get().execute("SELECT title FROM papers")] == ["ours"]
    assert ours.get().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    ours.close_all()
    other.close()


def test_a_transaction_reads_what_it_writes_over_without_another_commit_between(tmp_path):
    path = tmp_path / "catalog.sqlite"
    first, second = Connections(path), Connections(path)
    with first.transaction() as db:
        db.execute("CREATE TABLE papers (title TEXT)")
    read_once, other_tried = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_process() -> None:
        try:
            read_once.wait(5)
            other_tried.set()
            with second.transaction() as db:
                db.execute("INSERT INTO papers VALUES ('from the other process')")
            second.close_all()
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    thread = threading.Thread(target=other_process)
    thread.start()
    with first.transaction() as db:
        before = db.execute("SELECT count(*) FROM papers").fetchone()[0]
        read_once.set()
        other_tried.wait(5)
        time.sleep(0.3)  # time for the other process to commit, if it could
        again = db.execute("SELECT count(*) FROM papers").fetchone()[0]
        db.execute("INSERT INTO papers VALUES ('ours')")
    thread.join(30)
    assert not errors, errors
    # What a transaction read (is this source known?) still holds when it writes.
    assert before == again == 0
    assert first.get().execute("SELECT count(*) FROM papers").fetchone()[0] == 2
    first.close_all()


def test_a_transaction_opened_inside_another_joins_it(tmp_path):
    connections = Connections(tmp_path / "catalog.sqlite")
    with connections.transaction() as db:
        db.execute("CREATE TABLE papers (title TEXT)")
        with connections.transaction() as inner:
            inner.execute("INSERT INTO papers VALUES ('inner')")
        assert db.in_transaction  # the inner one did not commit the outer's work
    rows = connections.get().execute("SELECT title FROM papers").fetchall()
    assert [r[0] for r in rows] == ["inner"]
    connections.close_all()


def test_a_failure_after_an_inner_transaction_rolls_back_both(tmp_path):
    connections = Connections(tmp_path / "catalog.sqlite")
    with connections.transaction() as db:
        db.execute("CREATE TABLE papers (title TEXT)")
    try:
        with connections.transaction() as db:
            db.execute("INSERT INTO papers VALUES ('outer')")
            with connections.transaction() as inner:
                inner.execute("INSERT INTO papers VALUES ('inner')")
            raise RuntimeError("the outer work fails after the inner one")
    except RuntimeError:
        pass
    assert connections.get().execute("SELECT count(*) FROM papers").fetchone()[0] == 0
    connections.close_all()
