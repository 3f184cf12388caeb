"""The library on Milvus (Milvus Lite, for real): the same answers as the data
directory, atomic writes, several processes sharing one engine, one-line errors."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from paperlens.index.backends import open_milvus, open_store  # noqa: E402
from paperlens.index.ingestion import Ingestor  # noqa: E402
from paperlens.index.library import Library  # noqa: E402
from paperlens.index.migrate import migrate  # noqa: E402
from paperlens.index.milvus_connect import IndexUnreachable  # noqa: E402
from paperlens.index.records import IndexMismatchError  # noqa: E402
from paperlens.index.storage import LibraryStore  # noqa: E402
from paperlens.ingest.config import Settings  # noqa: E402
from tests.fixtures.digest_texts import write_digests  # noqa: E402
from tests.fixtures.papers import all_sources, korean_digest  # noqa: E402

QUERIES = ["layer normalization", "블록 어텐션", "low-rank adaptation", "LoRA", "ストリーミング"]


@pytest.fixture
def lite_path(tmp_path):
    """A Milvus Lite library file; its in-process server is stopped afterwards."""
    path = tmp_path / "library.db"
    try:
        yield path
    finally:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(str(path))


def _library(settings: Settings, embedder) -> Library:
    lib = Library(settings, show_progress=False)
    lib.__dict__["embedder"] = embedder
    return lib


def _filled(settings: Settings, embedder) -> Library:
    lib = _library(settings, embedder)
    ingestor = Ingestor(lib.store, embedder, settings, show_progress=False)
    for source in all_sources():
        ingestor.ingest_doc(source)
    return lib


@pytest.fixture
def both(tmp_path, lite_path, embedder):
    """The same fixture library in the data directory and in Milvus Lite."""
    plain = _filled(Settings(home=tmp_path / "plain"), embedder)
    milvus = _filled(Settings(home=tmp_path / "m", index_url=str(lite_path)), embedder)
    yield plain, milvus
    milvus.store.close()
    plain.store.close()


def _ranked(lib: Library, query: str, mode: str) -> list[tuple[str, str, object]]:
    """Papers, passages shown and scores (to float32 rounding: FAISS and Milvus sum
    inner products in different orders)."""
    return [
        (h.paper_id, h.passage, pytest.approx(h.score, abs=1e-3))
        for h in lib.searcher.search(query, k=5, mode=mode)
    ]


def test_milvus_store_speaks_the_storage_seam(both):
    plain, milvus = both
    assert isinstance(plain.store, LibraryStore) and isinstance(milvus.store, LibraryStore)


@pytest.mark.slow
def test_search_on_milvus_lite_ranks_like_the_data_directory(both):
    plain, milvus = both
    for query in QUERIES:
        for mode in ("dense", "bm25", "hybrid"):
            assert _ranked(milvus, query, mode) == _ranked(plain, query, mode), (query, mode)
        assert [h.passage for h in milvus.searcher.search_passages(query, k=4)] == [
            h.passage for h in plain.searcher.search_passages(query, k=4)
        ]


def test_ask_abstains_on_a_name_no_paper_mentions_on_both_backends(both):
    from paperlens.assistant.chat import ask

    for lib in both:
        missing = ask(lib, "How does DoRA change the LoRA update?", llm=None)
        present = ask(lib, "How does LoRA adapt a model with low-rank matrices?", llm=None)
        assert missing.abstained and missing.unknown_names == ["DoRA"]
        assert not present.abstained and present.citations


def test_papers_stats_and_similar_papers_match(both):
    from paperlens.assistant.similar import similar_to_paper, similar_to_text

    plain, milvus = both
    assert _counts(milvus.store.stats()) == _counts(plain.store.stats())
    key = _paper_key
    assert [key(p) for p in milvus.store.papers()] == [key(p) for p in plain.store.papers()]
    assert key(milvus.store.find_paper("2106.09685v2")) == key(
        plain.store.find_paper("2106.09685v2")
    )
    assert milvus.store.find_paper("layer normalization").arxiv_id == "1607.06450"
    for lib in (plain, milvus):
        assert [p.text for p in lib.store.paper_passages("arxiv:2106.09685")]
    similar = {
        name: [(s.paper.id, round(s.score, 4)) for s in similar_to_paper(lib, "2106.09685", 3)]
        for name, lib in (("plain", plain), ("milvus", milvus))
    }
    assert similar["milvus"] == similar["plain"] and similar["plain"]
    text = "attention over very long sequences split across devices"
    assert [s.paper.id for s in similar_to_text(milvus, text, 2)] == [
        s.paper.id for s in similar_to_text(plain, text, 2)
    ]


def test_delete_and_a_changed_source_leave_no_trace(both):
    plain, milvus = both
    for lib in (plain, milvus):
        assert lib.store.delete_paper("arxiv:2310.01889")
        assert not lib.store.delete_paper("arxiv:2310.01889")
        changed = korean_digest()
        changed.sha256 = "ko-2"
        changed.papers = changed.papers[1:]  # Layer Normalization only, now
        section = changed.papers[0].sections[0]
        changed.papers[0].sections = [
            dataclasses.replace(section, text=section.text + " 다시 썼습니다.")
        ]
        Ingestor(lib.store, lib.embedder, lib.settings, show_progress=False).ingest_doc(changed)
        assert all(
            h.arxiv_id != "2310.01889" for h in lib.searcher.search("blockwise ring attention")
        )
        assert lib.store.find_paper("2310.01889") is None
    assert milvus.store.stats()["passages"] == plain.store.stats()["passages"]
    assert milvus.store.stats()["languages"] == plain.store.stats()["languages"]
    assert _ranked(milvus, "layer normalization", "hybrid") == _ranked(
        plain, "layer normalization", "hybrid"
    )


def test_a_write_that_fails_before_its_commit_stays_invisible(both):
    """The source row is the commit point: rows written before it never show."""
    _, milvus = both
    store = milvus.store
    before = (store.stats()["passages"], _ranked(milvus, "layer normalization", "hybrid"))
    upsert = store.client.upsert

    def fail_on_commit(collection, rows, *args, **kwargs):
        if collection.endswith("_sources"):
            raise ConnectionError("network down")
        return upsert(collection, rows, *args, **kwargs)

    store.client.upsert = fail_on_commit
    changed = korean_digest()
    changed.sha256 = "ko-3"
    section = changed.papers[0].sections[0]
    changed.papers[0].sections = [
        dataclasses.replace(section, text="완전히 다른 내용의 새 요약입니다.")
    ]
    try:
        with pytest.raises(ConnectionError):
            Ingestor(store, milvus.embedder, milvus.settings, show_progress=False).ingest_doc(
                changed
            )
    finally:
        store.client.upsert = upsert
    assert (store.stats()["passages"], _ranked(milvus, "layer normalization", "hybrid")) == before
    Ingestor(store, milvus.embedder, milvus.settings, show_progress=False).ingest_doc(changed)
    assert store.source(changed.uri).sha256 == "ko-3"
    assert store.stats()["passages"] == before[0]  # the old version's rows are gone


@pytest.mark.slow
def test_migrate_copies_a_data_directory_with_its_caches(tmp_path, lite_path, embedder):
    plain = _filled(Settings(home=tmp_path / "plain"), embedder)
    plain.store.cache_vectors([("reranker:x", embedder.embed_passages(["x"])[0])])
    plain.store.close()
    source = __import__("paperlens.index.store", fromlist=["Store"]).Store.open_for_reindex(
        tmp_path / "plain"
    )
    target = open_milvus(Settings(), str(lite_path), model_name=source.model_name, dim=source.dim)
    report = migrate(source, target)
    assert (report.sources, report.passages) == (3, source.stats()["passages"])
    assert "reranker:x" in target.cached_vectors(["reranker:x"])
    with pytest.raises(Exception, match="already holds a library"):
        migrate(source, target)
    target.close()
    reopened = _library(Settings(home=tmp_path / "plain"), embedder)
    copied = _library(Settings(home=tmp_path / "m", index_url=str(lite_path)), embedder)
    for query in QUERIES:
        assert [h.paper_id for h in copied.searcher.search(query)] == [
            h.paper_id for h in reopened.searcher.search(query)
        ]


def test_another_model_or_an_older_schema_is_refused_and_nothing_is_written(lite_path, embedder):
    store = open_store(
        Settings(index_url=str(lite_path)), model_name=embedder.name, dim=embedder.dim
    )
    Ingestor(store, embedder, Settings(), show_progress=False).ingest_doc(korean_digest())
    client = store.client

    def counts() -> dict[str, int]:
        return {
            n: client.query(n, filter="", output_fields=["count(*)"])[0]["count(*)"]
            for n in client.list_collections()
        }

    before = counts()
    with pytest.raises(IndexMismatchError, match="paperlens reindex"):
        open_store(Settings(index_url=str(lite_path)), model_name="another-model", dim=embedder.dim)
    manifest = client.get("paperlens_meta", ids=["manifest"])[0]["value"]["v"]
    client.upsert(
        "paperlens_meta",
        [{"key": "manifest", "value": {"v": {**manifest, "schema_version": 0}}, "_": [0.0, 0.0]}],
    )
    with pytest.raises(IndexMismatchError, match="older than this paperlens"):
        open_store(Settings(index_url=str(lite_path)), model_name=embedder.name, dim=embedder.dim)
    assert counts() == before


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.org:19530", "is not an index address"),
        ("milvus://", "is not an index address"),
        ("milvus://user:secret@localhost:19530", "must not carry credentials"),
        ("milvus://localhost:notaport", "bad port"),
    ],
)
def test_a_wrong_url_is_one_line_without_secrets(url, expected):
    with pytest.raises(IndexUnreachable, match=expected) as caught:
        open_store(Settings(index_url=url), model_name="m", dim=4)
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)


def test_the_cli_reports_a_refused_connection_in_one_line(tmp_path):
    from tests.test_cli import run

    port = _free_port()
    env = {
        "PAPERLENS_INDEX_URL": f"milvus://127.0.0.1:{port}",
        "PAPERLENS_MILVUS_PASSWORD": "hunter2",
    }
    result = run(tmp_path / "home", "stats", check=False, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: cannot use the index at milvus://127.0.0.1:{port}: "
        "connection refused or no Milvus server answering there"
    )
    assert not (tmp_path / "home" / "catalog.sqlite").exists()


@pytest.mark.timeout(600)
def test_a_lite_file_is_reopened_by_later_processes_and_held_by_one_at_a_time(
    tmp_path, lite_path, embedder
):
    from tests.test_cli import run

    files = write_digests(tmp_path / "digests")
    env = {"PAPERLENS_INDEX_URL": str(lite_path)}
    run(tmp_path / "home", "ingest", "--no-pdfs", str(files["fr"]), env=env)
    stats = json.loads(run(tmp_path / "home", "stats", "--json", env=env).stdout)
    assert stats["sources"] == 1 and stats["passages"] > 0 and stats["home"] == str(lite_path)

    held = open_store(
        Settings(index_url=str(lite_path)), model_name=embedder.name, dim=embedder.dim
    )
    assert held.stats()["passages"] == stats["passages"]
    result = run(tmp_path / "home", "stats", check=False, env=env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: cannot use the index at {lite_path}: another process has this Milvus Lite "
        "file open (Lite is one process at a time; serve it with `milvus-lite server` or "
        "use a Milvus server to share it)"
    ]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_two_processes_ingest_into_one_milvus_and_a_third_sees_both(tmp_path):
    """A Milvus Lite server on loopback stands in for a Milvus server shared by a team."""
    from tests.test_cli import run

    port = _free_port()
    # One worker: Milvus Lite's engine takes one writer per collection at a time.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "milvus_lite",
            "server",
            "--data-dir",
            str(tmp_path / "srv"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_port(port, server)
        files = write_digests(tmp_path / "digests")
        env = {
            **os.environ,
            "PAPERLENS_HOME": str(tmp_path / "home"),
            "PAPERLENS_INDEX_URL": f"milvus://127.0.0.1:{port}",
        }
        writers = [
            subprocess.Popen(
                [sys.executable, "-m", "paperlens", "ingest", "--no-pdfs", str(files[lang])],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for lang in ("ko", "fr")
        ]
        for proc in writers:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
        shared = json.loads(run(tmp_path / "home", "stats", "--json", env=env).stdout)
        alone = {}
        for lang in ("ko", "fr"):
            home = tmp_path / f"alone-{lang}"
            run(home, "ingest", "--no-pdfs", str(files[lang]))
            alone[lang] = json.loads(run(home, "stats", "--json").stdout)
        assert shared["sources"] == 2 and shared["failed_sources"] == 0
        assert shared["passages"] == alone["ko"]["passages"] + alone["fr"]["passages"]
        hits = json.loads(run(tmp_path / "home", "search", "LoRA", "--json", env=env).stdout)
        assert hits and len({h["paper_id"] for h in hits}) == len(hits)
        assert not (tmp_path / "home" / "catalog.sqlite").exists()  # nothing went to the data dir
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _counts(stats: dict) -> dict:
    """What `stats` says about the library, without where and how it is stored."""
    return {k: v for k, v in stats.items() if k not in ("home", "index_bytes", "vector_index")}


def _paper_key(p) -> tuple:
    return (p.id, p.title, p.titles, p.languages, p.sources, p.n_passages, p.has_pdf)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"milvus-lite server exited: {proc.stderr.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("milvus-lite server did not start")
