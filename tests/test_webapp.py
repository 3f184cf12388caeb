"""The app's handlers and rendering: escaping, uploads, sources, library table."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperlens.assistant.access import AccessDenied
from paperlens.assistant.answers import Answer, Citation
from paperlens.assistant.ui.library import library_rows, refresh_sources, selected_ids, source_rows
from paperlens.assistant.ui.pickers import paper_choices, paper_ref
from paperlens.assistant.ui.render import (
    cite_links,
    evidence_html,
    hits_table,
    safe_url,
    sources_panel,
)
from paperlens.assistant.ui.state import App
from paperlens.assistant.ui.uploads import store_uploads, web_refs
from paperlens.assistant.webapp import build, launch_options
from tests.fixtures.papers import all_sources

SCRIPT = "<script>alert(1)</script>"


def test_document_text_is_escaped_in_the_sources_panel():
    answer = Answer(
        "x",
        "en",
        [Citation(1, "p", None, f"Title {SCRIPT}", 2, f"passage {SCRIPT}", "javascript:alert(1)")],
    )
    rendered = sources_panel(answer)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "javascript:" not in rendered  # only http(s) links become hrefs
    assert 'id="ask-sources-1"' in rendered and "page 2" in rendered


def test_only_http_links(monkeypatch):
    assert safe_url("https://arxiv.org/abs/1706.03762")
    assert safe_url("javascript:alert(1)") is None
    assert safe_url('https://x.org/"onmouseover="x') is None


def test_uploads_keep_only_safe_supported_files(tmp_path, settings):
    good = tmp_path / "weird name;rm -rf.md"
    good.write_text("# digest")
    fake_pdf = tmp_path / "paper.pdf"
    fake_pdf.write_text("<html>not a pdf</html>")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2048)
    small = settings.model_copy(update={"max_upload_mb": 0.001})

    stored, errors = store_uploads([str(good), str(fake_pdf), str(exe), str(big)], small)
    assert [p.split("/")[-1] for p in stored] == ["weird_name_rm_-rf.md"]
    assert all(p.startswith(str(settings.home / "uploads")) for p in stored)
    assert any("not a PDF" in e for e in errors)
    assert any("only PDF, text" in e for e in errors)
    assert any("upload limit" in e for e in errors)


def test_paper_picker_accepts_titles_in_every_language(library, ingestor):
    for source in all_sources():
        ingestor.ingest_doc(source)
    choices = paper_choices(library)
    assert any("LoRA : adaptation" in c for c in choices)  # the French title
    assert paper_ref("LoRA : adaptation de bas rang [2106.09685]") == "2106.09685"
    assert paper_ref("2106.09685") == "2106.09685"
    rows = library_rows(library)
    assert {row[-1] for row in rows} >= {"arxiv:2106.09685"}
    assert hits_table(library.searcher.search(SCRIPT, k=3)).count("<script>") == 0


def test_the_app_builds_and_warms_up_on_an_empty_library(settings, embedder):
    app = App(settings)
    app.library.__dict__["embedder"] = embedder
    app.warm_up()  # indexes the bundled samples on first run
    assert app.status.startswith("ready: ")
    assert app.library.store.stats()["papers"] >= 10
    assert build(app) is not None


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_questions_are_refused_in_one_line(library, bad):
    from paperlens.assistant.chat import ask

    with pytest.raises(Exception, match="empty"):
        ask(library, bad)


def test_cited_passages_are_clickable_and_show_their_scores():
    citation = Citation(1, "p", None, "T", None, "text", None, passage_id=7, score=3.2)
    citation.relevance = 0.12
    rendered = sources_panel(Answer("x [1]", "en", [citation], warnings=["weak evidence: …"]))
    assert 'data-passage="7"' in rendered and 'data-n="1"' in rendered
    assert "relevance 0.12" in rendered and "score 3.20" in rendered and "pl-weak" in rendered
    linked = cite_links(f"LoRA [1] {SCRIPT}", "ask-sources")
    assert 'class="pl-cite" href="#ask-sources-1"' in linked and "<script>" not in linked


def test_library_table_filters_and_deletes_by_selection(library, ingestor):
    for source in all_sources():
        ingestor.ingest_doc(source)
    rows = library_rows(library)
    assert all(row[0] is False for row in rows)  # the Select column
    assert [r for r in library_rows(library, text="lora")] and all(
        "LoRA" in r[1] for r in library_rows(library, text="lora")
    )
    only_fr = library_rows(library, lang="fr")
    assert only_fr and all("fr" in r[2] for r in only_fr)
    ticked = [[True, *rows[0][1:]], *rows[1:]]
    assert selected_ids(ticked) == [rows[0][-1]]
    assert source_rows(library)[0][2] == "ok"


def test_a_digest_passage_in_context_is_escaped(library, tmp_path):
    from paperlens.assistant.evidence import Evidence

    evidence = Evidence(1, "p", SCRIPT, "digest", "en", None, "b", "x.md", None, f"a b {SCRIPT}")
    rendered = evidence_html(evidence, "https://example.org/post")
    assert "<script>" not in rendered and "<mark>b</mark>" in rendered


def test_refresh_sources_reports_new_papers_and_obeys_who_may_change_the_library(
    settings, embedder, monkeypatch
):
    from tests.fixtures.loopback import LoopbackServer, Route

    week = "| 1) **{t}** - {d} | [Paper](https://arxiv.org/abs/{a}) |\n"
    table = "## Top ML Papers of the Week (May 1 - May 7) - 2024\n| **Paper** | **Links** |\n| --- | --- |\n"
    first = table + week.format(
        t="Layer Normalization", d="normalizes per example.", a="1607.06450"
    )
    second = first + week.format(t="Sinks & Streams", d="keeps the first tokens.", a="2309.17453")
    app = App(settings.model_copy(update={"local_llm": "off", "allow_private": True}))
    app.library.__dict__["embedder"] = embedder
    app.ready.set()
    with LoopbackServer() as server:
        route = Route(body=first.encode(), headers={"Content-Type": "text/markdown"}, etag='"1"')
        server.routes["/w.md"] = route
        app.library.ingest([server.url("/w.md")], pdfs=False)
        server.routes["/w.md"] = Route(
            body=second.encode(), headers={"Content-Type": "text/markdown"}, etag='"2"'
        )
        shown = refresh_sources(app, False, None)
        assert shown.startswith("**1 sources checked, 1 updated, 1 papers added, 0 failed**")
        assert "added: Sinks &amp; Streams [2309.17453]" in shown  # titles are escaped

        def reader(request):
            raise AccessDenied("signed in as a reader: only librarians may change the library")

        monkeypatch.setattr(app, "require_librarian", reader)
        asked = len(server.requests)
        assert refresh_sources(app, False, None).startswith("⚠️ signed in as a reader")
        assert len(server.requests) == asked


def test_launch_follows_gradio_conventions(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)
    monkeypatch.setenv("PAPERLENS_PORT", "7999")
    assert launch_options()["server_port"] == 7999
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7001")
    assert launch_options() == {"server_name": None, "server_port": 7001, "root_path": None}
    assert launch_options("0.0.0.0", 8000, "/paperlens")["root_path"] == "/paperlens"


def test_switching_the_generator_takes_effect(settings, embedder):
    app = App(settings.model_copy(update={"local_llm": "off"}))
    app.library.__dict__["embedder"] = embedder
    assert app.generators[-1].key == "none"
    app.use_generator("none")
    assert app.llm is None and app.generator_key == "none"


def test_the_add_box_takes_urls_and_arxiv_ids_never_paths_on_the_server(tmp_path):
    assert web_refs("https://example.org/digest.md\n\n2106.09685v2\n") == [
        "https://example.org/digest.md",
        "https://arxiv.org/abs/2106.09685v2",
    ]
    secret = tmp_path / "notes.md"
    secret.write_text("# private")
    # Existing and missing paths get the same answer: no oracle over the disk.
    for line in (str(secret), str(tmp_path / "missing.md"), str(tmp_path), "/etc/passwd"):
        with pytest.raises(Exception, match="not a URL or arXiv id") as caught:
            web_refs(line)
        assert "never reads paths" in str(caught.value)


def test_two_uploads_with_one_name_keep_both_files(tmp_path, settings):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    (first / "digest.md").write_text("# Ann's digest")
    (second / "digest.md").write_text("# Bob's digest")
    stored_a, _ = store_uploads([str(first / "digest.md")], settings)
    stored_b, _ = store_uploads([str(second / "digest.md")], settings)
    assert stored_a != stored_b
    assert [Path(p).read_text() for p in stored_a + stored_b] == [
        "# Ann's digest",
        "# Bob's digest",
    ]


def test_uploads_are_never_among_the_files_the_app_serves(settings, embedder, tmp_path):
    from tests.fixtures.pdfs import paper_pdf

    app = App(settings)
    app.library.__dict__["embedder"] = embedder
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(paper_pdf())
    stored, _ = store_uploads([str(pdf)], settings)
    app.library.ingest(stored, pdfs=False)
    assert app.library.store.source(stored[0]) is not None  # in the library…
    uploads = str((settings.home / "uploads").resolve())
    assert not any(p.startswith(uploads) for p in app.allowed_paths())  # …not served


def test_document_markdown_in_an_answer_is_shown_as_text_not_markup():
    from paperlens.assistant.markup import markdown_literal

    text = "See ![beacon](https://t.example/p.png) and [x](javascript:alert(1)) [1]"
    shown = cite_links(text, "ask-sources", markdown_literal)
    assert "![" not in shown and "](" not in shown  # no Markdown image or link survives
    assert "<img" not in shown and "javascript:" not in shown
    assert 'class="pl-cite" href="#ask-sources-1"' in shown  # citations still click
