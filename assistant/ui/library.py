"""The Library tab: add URLs, arXiv ids and uploads; filter, tick and delete papers;
the sources with their status and problems; re-ingest or forget one, refresh the URL
ones.

Every handler that changes the library asks `app.require_librarian` first: Gradio's
HTTP API reaches handlers whatever the page shows."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from paperlens.assistant.markup import markdown_literal
from paperlens.assistant.ui.render import error_line, report_lines, warning_line
from paperlens.assistant.ui.state import App
from paperlens.assistant.ui.uploads import store_uploads, web_refs
from paperlens.assistant.ui.widgets import PROGRESS
from paperlens.index.library import Library
from paperlens.index.progress import Throughput
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.sources import SUPPORTED

log = logging.getLogger("paperlens.app")
LIBRARY_HEADERS = ["Select", "Title", "Languages", "Sources", "Passages", "PDF", "id"]
SOURCE_HEADERS = ["Source", "Kind", "Status", "Problems", "Ingested"]


@dataclass(frozen=True)
class LibraryTab:
    """What the rest of the page updates or locks: the tables follow the catalog,
    the filter feeds the papers table, readers see the controls disabled."""

    table: gr.Dataframe
    source_table: gr.Dataframe
    filter_text: gr.Textbox
    filter_lang: gr.Dropdown
    controls: list[gr.components.Component]


def library_tab(app: App, languages: list[str]) -> LibraryTab:
    """The tab's components and events (inside a `gr.Tab`)."""
    lib = app.library
    urls = gr.Textbox(label="URLs or arXiv ids (one per line)", lines=3)
    uploads = gr.File(
        file_count="multiple",
        label="Upload PDF / text / Markdown / HTML",
        file_types=list(SUPPORTED),
        elem_id="upload-files",
    )
    fetch_pdfs = gr.Checkbox(value=False, label="Also fetch arXiv PDFs for digest papers")
    with gr.Row():
        add_button = gr.Button("Add to library", variant="primary", scale=4)
        add_stop = gr.Button("Stop", variant="stop", scale=1)
    report = gr.Markdown()
    with gr.Row():
        filter_text = gr.Textbox(label="Filter by title or id", scale=4)
        filter_lang = gr.Dropdown(["all", *languages], value="all", label="Language")
    table = gr.Dataframe(
        headers=LIBRARY_HEADERS,
        datatype=["bool", "str", "str", "number", "number", "str", "str"],
        interactive=True,
        static_columns=list(range(1, len(LIBRARY_HEADERS))),
        wrap=True,
        label="Papers: tick Select, then Delete selected",
    )
    delete_button = gr.Button("Delete selected", variant="stop")
    gr.Markdown("### Sources")
    source_table = gr.Dataframe(
        headers=SOURCE_HEADERS, interactive=False, wrap=True, label="Click a source row"
    )
    with gr.Row():
        chosen_source = gr.Textbox(label="Source to re-ingest or forget", scale=4)
        reingest_button = gr.Button("Re-ingest", scale=1)
        forget_button = gr.Button("Forget", variant="stop", scale=1)
        refresh_button = gr.Button("Refresh sources", scale=1)

    def on_add(lines: str, files: list | None, pdfs: bool, request: gr.Request, progress=PROGRESS):
        try:
            user = app.require_librarian(request)
            app.wait()
            refs = web_refs(lines)
            stored, errors = store_uploads(files or [], app.settings)
            events: list[str] = [f"error: {e}" for e in errors]
            todo = refs + stored
            log.info("%s adds %d source(s)", user, len(todo))
            for n, ref in enumerate(todo):
                name = f"ingesting {Path(ref).name} ({n + 1}/{len(todo)})"
                progress((n, len(todo)), desc=name)
                meter = Throughput()

                def embedded(done: int, total: int, name=name, meter=meter) -> None:
                    # Same figures as the CLI's bar: passages/s and time left.
                    progress((done, total), desc=f"{name}: {meter.describe(done, total)}")

                lib.ingest([ref], pdfs=pdfs, on_event=events.append, on_progress=embedded)
            app.show_ready()
            return report_lines(events) or "nothing to add"
        except Exception as exc:  # error_line re-raises what is not the user's
            return error_line(exc)

    added = add_button.click(on_add, [urls, uploads, fetch_pdfs], report, concurrency_limit=1)
    add_stop.click(None, cancels=[added])

    def on_delete(frame, request: gr.Request) -> str:
        try:
            user = app.require_librarian(request)
            ids = selected_ids(frame)
            if not ids:
                return "tick the Select box of the papers to delete first"
            deleted = [pid for pid in ids if lib.store.delete_paper(pid)]
            log.info("%s deleted %s", user, deleted)
            app.show_ready()
            return f"deleted {len(deleted)} paper(s): " + markdown_literal(", ".join(deleted))
        except Exception as exc:  # error_line re-raises what is not the user's
            return error_line(exc)

    delete_button.click(on_delete, table, report, concurrency_limit=1)

    def on_source(evt: gr.SelectData) -> str:
        row = evt.row_value or []
        return str(row[0]) if row else ""

    source_table.select(on_source, None, chosen_source)

    def stored_choice(uri: str | None) -> tuple[str, str | None]:
        """The chosen source's URI, and a line saying why it cannot be acted on (None
        when it can): only a URI the library holds, never a path typed here, which
        could name files on the server."""
        uri = (uri or "").strip()
        if not uri:
            return uri, "click a source row first"
        if lib.store.source(uri) is None:
            return uri, warning_line(
                "not a source of this library (click a row of the Sources table)"
            )
        return uri, None

    def on_reingest(uri: str, request: gr.Request) -> str:
        try:
            user = app.require_librarian(request)
            uri, problem = stored_choice(uri)
            if problem:
                return problem
            events: list[str] = []
            log.info("%s re-ingests %s", user, uri)
            lib.ingest([uri], pdfs=False, on_event=events.append)
            app.show_ready()
            return report_lines(events) or "done"
        except Exception as exc:  # error_line re-raises what is not the user's
            return error_line(exc)

    reingest_button.click(on_reingest, chosen_source, report, concurrency_limit=1)

    def on_forget(uri: str, request: gr.Request) -> str:
        try:
            user = app.require_librarian(request)
            uri, problem = stored_choice(uri)
            if problem:
                return problem
            app.wait()
            gone = lib.forget(uri)
            log.info("%s forgot %s", user, uri)
            app.show_ready()
            passages = sum(g.passages for g in gone)
            papers = sum(g.papers for g in gone)
            return (
                f"forgot {markdown_literal(uri)}: {passages} passage(s) and "
                f"{papers} paper(s) no other source gives removed"
            )
        except Exception as exc:  # error_line re-raises what is not the user's
            return error_line(exc)

    forget_button.click(on_forget, chosen_source, report, concurrency_limit=1)

    def on_refresh(pdfs: bool, request: gr.Request) -> str:
        return refresh_sources(app, pdfs, request)

    refresh_button.click(on_refresh, fetch_pdfs, report, concurrency_limit=1)

    def on_filter(text: str, language: str):
        return library_rows(lib, None, text, language)

    filter_text.change(on_filter, [filter_text, filter_lang], table)
    filter_lang.change(on_filter, [filter_text, filter_lang], table)
    controls = [urls, uploads, add_button, delete_button, reingest_button, forget_button]
    return LibraryTab(table, source_table, filter_text, filter_lang, controls)


def library_rows(
    library: Library, papers: list | None = None, text: str = "", lang: str = "all"
) -> list[list]:
    """Table rows (a Select checkbox first), filtered by title text and language."""
    papers = library.store.papers() if papers is None else papers
    needle = (text or "").strip().casefold()
    rows = []
    for p in papers:
        titles = " ".join([p.title, *p.titles.values(), p.arxiv_id or "", p.id]).casefold()
        if needle and needle not in titles:
            continue
        if lang and lang != "all" and lang not in p.languages:
            continue
        rows.append(
            [
                False,
                p.title,
                ", ".join(p.languages),
                len(p.sources),
                p.n_passages,
                "yes" if p.has_pdf else "no",
                p.id,
            ]
        )
    return rows


def selected_ids(table) -> list[str]:
    """Paper ids of the rows whose Select box is ticked (a DataFrame or a list of rows)."""
    rows = table.values.tolist() if hasattr(table, "values") else list(table or [])
    return [str(row[-1]) for row in rows if row and row[0] in (True, "true", "True", 1)]


def source_rows(library: Library) -> list[list]:
    """Every ingested source: its status, and its problems: the error, and the warnings
    of its last ingest (entries that linked no paper, PDFs skipped...)."""
    rows = []
    for s in library.store.sources():
        problems = [s.error] if s.error else []
        rows.append([s.uri, s.kind, s.status, "; ".join([*problems, *s.warnings]), s.ingested_at])
    return rows


def refresh_sources(app: App, pdfs: bool, request: gr.Request | None) -> str:
    """The Refresh sources button (librarians): every URL source fetched again, changes
    ingested; one Markdown line per source, document text escaped."""
    try:
        app.require_librarian(request)
        app.wait()
        events: list[str] = []
        report = app.library.refresh(pdfs=pdfs, on_event=events.append)
        app.show_ready()
    except PaperlensError as exc:
        return error_line(exc)
    if not report.outcomes:
        return "no URL sources to refresh: add a digest by its URL first"
    data = report.to_json()
    lines = [f"- {html.escape(e)}".replace("\n", "<br>") for e in events]
    summary = (
        f"**{data['checked']} sources checked, {data['updated']} updated, "
        f"{data['papers_added']} papers added, {data['failed']} failed**"
    )
    return "\n".join([summary, *lines])
