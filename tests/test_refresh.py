"""`paperlens refresh`: conditional re-fetch of URL sources, only new papers embedded,
an older catalog migrated in place."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import paperlens.index.refresh
from paperlens.index.library import Library
from paperlens.index.store import SCHEMA_VERSION, Store
from paperlens.ingest.config import Settings
from tests.fixtures.loopback import LoopbackServer, Route

ROOT = Path(__file__).resolve().parents[1]

WEEK_1 = """## Top ML Papers of the Week (October 2 - October 8) - 2023
| **Paper**  | **Links** |
| ------------- | ------------- |
| 1) **Efficient Streaming Language Models with Attention Sinks** - keeps the first tokens' keys and values so a model can stream text far past its training length. | [Paper](https://arxiv.org/abs/2309.17453) |
| 2) **Ring Attention with Blockwise Transformers** - splits a long sequence into blocks spread over devices that pass keys and values around a ring. | [Paper](https://arxiv.org/abs/2310.01889) |
"""
WEEK_2 = """## Top ML Papers of the Week (October 9 - October 15) - 2023
| **Paper**  | **Links** |
| ------------- | ------------- |
| 1) **Think before you speak: Training Language Models With Pause Tokens** - adds learnable pause tokens so the model computes longer before it answers. | [Paper](https://arxiv.org/abs/2310.02226) |
| 2) **Retrieval meets Long Context Large Language Models** - compares retrieval with longer context windows and finds that combining both works best. | [Paper](https://arxiv.org/abs/2310.03025) |
"""
HEADER = "# ML Papers of The Week\n\nA weekly list of notable papers.\n\n"
NEW_WEEK = {"2310.02226", "2310.03025"}


class CountingEmbedder:
    """The real model, with a record of every passage text it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]):
        self.embedded.extend(texts)
        return self.inner.embed_passages(texts)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def library(tmp_path, embedder) -> Library:
    settings = Settings(
        home=tmp_path / "data", allow_private=True, refresh_delay_seconds=0.0, http_retries=0
    )
    lib = Library(settings, show_progress=False)
    lib.__dict__["embedder"] = CountingEmbedder(embedder)
    return lib


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """URIs refresh parsed (the real parser runs; this only counts)."""
    seen: list[str] = []
    real = paperlens.index.refresh.parse_raw

    def counting(raw, settings):
        seen.append(raw.uri)
        return real(raw, settings)

    monkeypatch.setattr(paperlens.index.refresh, "parse_raw", counting)
    return seen


def serve_digest(server: LoopbackServer, body: str, etag: str, path: str = "/weekly.md") -> str:
    server.routes[path] = Route(
        body=body.encode(), headers={"Content-Type": "text/markdown"}, etag=etag
    )
    return server.url(path)


def test_an_unchanged_digest_costs_one_request_and_no_parsing(server, library, parses):
    url = serve_digest(server, HEADER + WEEK_1, etag='"w1"')
    assert library.ingest([url], pdfs=False).succeeded
    embedded = len(library.embedder.embedded)

    report = library.refresh()

    assert [o.status for o in report.outcomes] == ["not-modified"]
    path, headers, _ = server.requests[-1]
    assert path == "/weekly.md" and headers.get("If-None-Match") == '"w1"'
    assert len(server.requests) == 2  # the ingest, then one conditional request
    assert parses == [] and len(library.embedder.embedded) == embedded
    assert library.store.source(url).checked_at is not None


def test_a_new_week_adds_exactly_its_papers_and_embeds_nothing_else(server, library, parses):
    url = serve_digest(server, HEADER + WEEK_1, etag='"w1"')
    library.ingest([url], pdfs=False)
    old_passages = {
        paper.arxiv_id: [p.id for p in library.store.paper_passages(paper.id)]
        for paper in library.store.papers()
    }
    library.embedder.embedded.clear()

    serve_digest(server, HEADER + WEEK_2 + "\n" + WEEK_1, etag='"w2"')
    report = library.refresh()

    assert [o.status for o in report.outcomes] == ["updated"]
    assert {p.arxiv_id for p in report.added} == NEW_WEEK
    assert report.outcomes[0].removed == [] and parses == [url]
    new_passages = [
        p
        for pid in ("arxiv:2310.02226", "arxiv:2310.03025")
        for p in library.store.paper_passages(pid)
    ]
    # Only the new week's passages went through the model...
    assert len(library.embedder.embedded) == len(new_passages) > 0
    assert all("Pause Tokens" in t or "Retrieval meets" in t for t in library.embedder.embedded)
    # ...and the old papers kept their passages (ids that citations name).
    for arxiv_id, ids in old_passages.items():
        paper = library.store.find_paper(arxiv_id)
        assert [p.id for p in library.store.paper_passages(paper.id)] == ids
    assert library.searcher.search("pause tokens before answering", k=1)[0].arxiv_id == "2310.02226"
    assert library.store.source(url).etag == '"w2"'
    data = report.to_json()
    assert data["updated"] == 1 and data["papers_added"] == 2

    # The next refresh finds nothing new.
    again = library.refresh()
    assert [o.status for o in again.outcomes] == ["not-modified"] and again.added == []


def test_a_server_without_validators_is_compared_by_content(server, library, parses):
    server.routes["/list.md"] = Route(
        body=(HEADER + WEEK_1).encode(), headers={"Content-Type": "text/markdown"}
    )
    library.ingest([server.url("/list.md")], pdfs=False)
    report = library.refresh()
    assert [o.status for o in report.outcomes] == ["unchanged"] and parses == []
    assert "If-None-Match" not in server.requests[-1][1]


def test_a_failing_source_is_reported_and_the_others_still_refresh(server, library):
    first = serve_digest(server, HEADER + WEEK_1, etag='"a"', path="/a.md")
    second = serve_digest(server, HEADER + WEEK_2, etag='"b"', path="/b.md")
    library.ingest([first, second], pdfs=False)
    server.routes["/a.md"] = Route(status=404, body=b"gone")
    report = library.refresh()
    by_uri = {o.uri: o for o in report.outcomes}
    assert by_uri[first].status == "failed" and "HTTP 404" in by_uri[first].error
    assert by_uri[second].status == "not-modified"
    assert library.store.source(first).status == "ok"  # its papers stay searchable
    assert len(library.store.papers()) == 4


def test_a_refused_url_with_a_password_is_never_stored_with_it(server, library):
    url = serve_digest(server, HEADER + WEEK_1, etag='"a"').replace("://", "://alice:secret@")
    report = library.ingest([url], pdfs=False)
    assert (
        report.outcomes[0].status == "failed"
        and "user name or password" in report.outcomes[0].error
    )
    assert library.store.sources() and not any(
        "secret" in s.uri or "alice" in s.uri for s in library.store.sources()
    )


def test_requests_to_one_host_are_spaced_by_the_refresh_delay(server, library):
    urls = [serve_digest(server, HEADER + WEEK_1, etag=f'"{n}"', path=f"/{n}.md") for n in "ab"]
    library.ingest(urls, pdfs=False)
    library.settings = library.settings.model_copy(update={"refresh_delay_seconds": 0.4})
    library.refresh()
    first, second = (when for _, _, when in server.requests[-2:])
    assert second - first >= 0.35


def test_arxiv_papers_and_local_files_are_not_refetched(tmp_path, library, server):
    digest = tmp_path / "weekly.md"
    digest.write_text(HEADER + WEEK_1, encoding="utf-8")
    library.ingest([str(digest)], pdfs=False)
    report = library.refresh()
    assert report.outcomes == [] and server.requests == []


def test_a_catalog_of_the_previous_schema_is_migrated_in_place(server, library):
    url = serve_digest(server, HEADER + WEEK_1, etag='"w1"')
    library.ingest([url], pdfs=False)
    home, papers = library.settings.home, len(library.store.papers())
    library.store.close()
    with sqlite3.connect(home / "catalog.sqlite") as db:  # what schema 1 looked like
        for column in ("etag", "last_modified", "checked_at", "warnings"):
            db.execute(f"ALTER TABLE sources DROP COLUMN {column}")
        db.execute("DROP TABLE mentions")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")

    store = Store(home, model_name=library.embedder.name, dim=library.embedder.dim)
    assert int(store.manifest()["schema_version"]) == SCHEMA_VERSION == 4
    assert store.source(url).etag is None and len(store.papers()) == papers
    store.close()

    reopened = Library(library.settings, show_progress=False)
    reopened.__dict__["embedder"] = library.embedder
    # No validators yet: the first refresh fetches whole, finds the same bytes...
    assert [o.status for o in reopened.refresh().outcomes] == ["unchanged"]
    # ...and stores them, so the next one is conditional.
    assert [o.status for o in reopened.refresh().outcomes] == ["not-modified"]


def test_refresh_from_the_command_line(server, tmp_path):
    url = serve_digest(server, HEADER + WEEK_1, etag='"w1"')
    env = {
        **os.environ,
        "PAPERLENS_HOME": str(tmp_path / "home"),
        "PAPERLENS_REFRESH_DELAY_SECONDS": "0",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "paperlens", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )

    empty = cli("refresh")
    assert empty.returncode == 0 and "no URL sources to refresh" in empty.stdout
    assert cli("ingest", "--no-pdfs", "--allow-private", url).returncode == 0
    serve_digest(server, HEADER + WEEK_2 + WEEK_1, etag='"w2"')
    proc = cli("refresh", "--allow-private")
    assert proc.returncode == 0, proc.stderr
    assert f"updated: {url} (+2 papers, -0)" in proc.stdout
    assert "added: Think before you speak" in proc.stdout
    assert "done: 1 sources checked, 1 updated, 2 papers added, 0 failed" in proc.stdout
    data = json.loads(cli("refresh", "--allow-private", "--json").stdout)
    assert data["not_modified"] == 1 and data["papers_added"] == 0
