"""The catalog + vectors: merging, replacing, atomicity, model checks."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from paperlens.index.ingestion import Ingestor
from paperlens.index.store import IndexMismatchError, Store
from paperlens.index.vectors import IndexSpec
from tests.fixtures.papers import all_sources, french_list, korean_digest


def test_one_paper_met_in_several_languages_is_one_record(ingestor, store):
    for source in all_sources():
        ingestor.ingest_doc(source)

    lora = store.find_paper("2106.09685")
    assert lora is not None
    assert lora.id == "arxiv:2106.09685"
    # The English title from the Japanese digest wins over the French-only one.
    assert lora.title == "LoRA: Low-Rank Adaptation of Large Language Models"
    assert set(lora.titles) == {"fr", "ja", "en"}
    assert lora.languages == ["fr", "ja"]
    assert len(lora.sources) == 2
    assert store.stats()["papers"] == 5


def test_a_changed_source_replaces_its_old_passages(ingestor, store):
    ingestor.ingest_doc(korean_digest())
    before = store.stats()["passages"]

    changed = korean_digest()
    changed.sha256 = "ko-2"
    changed.papers = changed.papers[:1]
    ingestor.ingest_doc(changed)

    assert store.stats()["passages"] < before
    assert store.find_paper("1607.06450") is None  # no passages left -> paper gone
    assert store.find_paper("2310.01889") is not None


def test_find_paper_accepts_ids_versions_and_titles(ingestor, store):
    ingestor.ingest_doc(korean_digest())
    assert store.find_paper("arxiv:1607.06450").arxiv_id == "1607.06450"
    assert store.find_paper("1607.06450v3").arxiv_id == "1607.06450"
    assert store.find_paper("layer normalization").arxiv_id == "1607.06450"
    assert store.find_paper("nothing like this") is None


def test_opening_with_another_model_names_reindex(ingestor, settings):
    ingestor.ingest_doc(french_list())
    with pytest.raises(IndexMismatchError, match="paperlens reindex"):
        Store(settings.home, model_name="sentence-transformers/all-MiniLM-L6-v2", dim=384)


def test_stale_vector_file_is_rebuilt_from_the_catalog(ingestor, store, settings, embedder):
    ingestor.ingest_doc(french_list())
    store.passage_index()  # writes passages.faiss for this generation
    ingestor.ingest_doc(korean_digest())  # catalog moves on

    # Simulate a crash after the SQLite commit but before the FAISS write:
    # the file on disk still describes the previous generation.
    reopened = Store(settings.home, model_name=embedder.name, dim=embedder.dim)
    assert reopened.passage_index().ntotal == reopened.stats()["passages"]


def test_failed_source_keeps_its_earlier_good_passages(ingestor, store):
    source = korean_digest()
    ingestor.ingest_doc(source)
    store.record_failure(source.uri, "digest", "HTTP 500")
    assert store.source(source.uri).status == "ok"
    assert store.find_paper("1607.06450") is not None


def test_delete_paper_removes_its_passages(ingestor, store):
    ingestor.ingest_doc(korean_digest())
    assert store.delete_paper("arxiv:1607.06450")
    assert store.find_paper("1607.06450") is None
    assert store.passage_index().ntotal == store.stats()["passages"]


def test_paper_records_are_plain_data(ingestor, store):
    ingestor.ingest_doc(korean_digest())
    record = store.find_paper("2310.01889")
    assert dataclasses.asdict(record)["links"]["paper"].endswith("2310.01889")


def test_a_lagging_index_is_caught_up_from_the_change_log_not_rebuilt(
    ingestor, store, settings, embedder
):
    ingestor.ingest_doc(french_list())
    store.passage_index()
    store.checkpoint()
    build = store.manifest()["vector_build"]

    # Another process (the CLI) ingests and deletes while this one keeps its index.
    other = Store(settings.home, model_name=embedder.name, dim=embedder.dim)
    vectors = embedder.embed_passages(["layer normalization"])
    ingestor.ingest_doc(korean_digest())
    assert other.delete_paper("arxiv:1607.06450")
    gone = {p.id for p in store.paper_passages("arxiv:1607.06450")}
    assert not gone

    for view in (store, Store(settings.home, model_name=embedder.name, dim=embedder.dim)):
        index = view.passage_index()
        assert index.ntotal == view.stats()["passages"]
        assert view.manifest()["vector_build"] == build  # replayed, not rebuilt
        ids, _ = view.search_passages(vectors[0], 50)
        assert set(ids.tolist()) <= set(view.passages(ids.tolist()))


def test_lexical_postings_follow_each_commit(library, ingestor, store):
    ingestor.ingest_doc(korean_digest())
    searcher = library.searcher
    assert searcher.search("blockwise ring", k=1, mode="bm25")[0].arxiv_id == "2310.01889"
    assert store.delete_paper("arxiv:2310.01889")
    assert all(h.arxiv_id != "2310.01889" for h in searcher.search("blockwise ring", mode="bm25"))


def test_searches_keep_working_while_an_ingest_runs(library, ingestor):
    ingestor.ingest_doc(korean_digest())
    searcher = library.searcher
    errors: list[BaseException] = []
    done = threading.Event()

    def search_until_done() -> None:
        while not done.is_set():
            try:
                assert searcher.search("layer normalization", k=3)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                return

    reader = threading.Thread(target=search_until_done)
    reader.start()
    try:
        for source in all_sources():
            ingestor.ingest_doc(source)
    finally:
        done.set()
        reader.join()
    assert not errors
    assert library.store.passage_index().ntotal == library.store.stats()["passages"]


def test_an_approximate_index_follows_replaced_sources_without_a_rebuild(ingestor, store):
    for source in all_sources():
        ingestor.ingest_doc(source)
    spec = store.rebuild_index(IndexSpec("hnsw-sq8", m=8, ef_search=32))
    assert spec.kind == "hnsw-sq8"
    changed = korean_digest()
    changed.sha256 = "ko-2"
    changed.papers = changed.papers[:1]
    ingestor.ingest_doc(changed)  # passages removed: tombstones in the graph

    kept = {p.id for paper in store.papers() for p in store.paper_passages(paper.id)}
    index = store.passage_index()
    assert index.spec == spec and index.ntotal == len(kept)
    passage_ids, vectors = store.passage_vectors(store.papers()[0].id)
    _, found = index.search(vectors[:1], 50)
    assert set(found[0].tolist()) <= kept and passage_ids[0] in found[0].tolist()


def test_a_catalog_from_before_source_warnings_opens_and_keeps_its_sources(
    settings, embedder, ingestor, store
):
    import sqlite3

    ingestor.ingest_doc(korean_digest())
    papers = store.papers()
    store.close()
    with sqlite3.connect(settings.home / "catalog.sqlite") as db:  # as earlier versions wrote it
        db.execute("ALTER TABLE sources DROP COLUMN warnings")
        db.execute("DROP TABLE mentions")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    reopened = Store(settings.home, model_name=embedder.name, dim=embedder.dim)
    [source] = reopened.sources()
    assert source.uri == korean_digest().uri and source.warnings == []
    # Its papers as they were; the source is taken to have said all the catalog knew.
    assert reopened.papers() == papers
    said = reopened.catalog.source_papers(source.uri)
    assert [(p.id, p.title, p.links) for p in said] == sorted(
        (p.id, p.title, p.links) for p in papers
    )
    changed = korean_digest()
    changed.sha256, changed.warnings = "ko-2", ["1 of 3 entries link no paper: 'A meetup'"]
    Ingestor(reopened, embedder, settings, show_progress=False).ingest_doc(changed)
    assert reopened.sources()[0].warnings == ["1 of 3 entries link no paper: 'A meetup'"]
