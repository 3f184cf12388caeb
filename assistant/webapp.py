"""The Gradio app: Ask, Search, Similar papers, Summarize, Library, Settings.

Thin by design: every handler calls the same functions as the CLI and only
renders. All document text is HTML-escaped before it is shown; links are
only ever http(s), or PDFs this app serves from the user's own library.

Clicking a cited passage (in a sources panel or a search table) shows it in
context (assistant/evidence.py): its PDF page with the passage highlighted,
or its digest entry. Pickers and tables follow the catalog's generation, so
an ingest or delete anywhere (another tab, the CLI) shows up without a reload.
"""

from __future__ import annotations

import html
import io
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import gradio as gr
from PIL import Image

from assistant.chat import ask_stream
from assistant.evidence import Evidence, passage_context
from assistant.llm import discover_generators, generator_installing, get_llm
from assistant.rag import Answer
from assistant.relevance import WEAK_EVIDENCE
from assistant.similar import similar_to_paper, similar_to_text
from assistant.summarize import summarize_stream
from index.hits import snippet
from index.library import Library
from index.progress import Throughput
from ingest.config import Settings
from ingest.errors import PaperlensError
from ingest.sources import SUPPORTED

log = logging.getLogger("paperlens.app")
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def sample_digests() -> list[str]:
    """The bundled sample digests (not their README, which describes them)."""
    return [
        str(p) for p in sorted(SAMPLES.glob("*")) if p.suffix in SUPPORTED and p.stem != "README"
    ]


LANGUAGES = ["auto", "en", "ko", "ja", "zh", "hi", "fr", "de", "es"]
PROGRESS = gr.Progress()  # Gradio injects a tracker where a handler's default is one
EXAMPLES = [
    "LoRA는 어떻게 학습 파라미터 수를 줄이나요?",
    "アテンションシンクとは何ですか？",
    "Comment le Transformer remplace-t-il la récurrence ?",
    "DPR और BM25 में क्या अंतर है?",
    "What does Mamba change compared to attention?",
]
# Clicks on a passage inside an HTML panel reach Python as a "click" event
# carrying the passage id; [n] markers in an answer click their sources entry.
PASSAGE_CLICKS = """
element.addEventListener('click', (event) => {
  const item = event.target.closest('[data-passage]');
  if (item && !event.target.closest('a[href]')) trigger('click', {passage: item.dataset.passage});
});
"""
CITE_CLICKS = """
() => {
  document.addEventListener('click', (event) => {
    const cite = event.target.closest('a.pl-cite');
    if (!cite) return;
    event.preventDefault();
    const item = document.getElementById(cite.getAttribute('href').slice(1));
    if (item) { item.scrollIntoView({block: 'nearest'}); item.click(); }
  }, true);
}
"""
CSS = """
.pl-source { cursor: pointer; border-left: 3px solid transparent; padding-left: 6px; }
.pl-source:hover { border-left-color: #f5b400; }
.pl-score { color: #666; font-size: 0.85em; }
.pl-weak { color: #b45309; }
tr[data-passage] { cursor: pointer; }
"""


AWAITING_GENERATOR = (
    "none yet: the offline model is being installed in the background "
    "(a few minutes; answers quote passages until then)"
)


class App:
    """Holds the library and the start-up state shared by every session."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.library = Library(settings, show_progress=False)
        self.llm = get_llm(settings)
        self.generators = discover_generators(settings)
        self.generator_key = self._key_of(self.llm)
        # `make run` on a new machine: the bundled generator is still being built.
        self.awaiting_generator = self.llm is None and generator_installing(settings)
        self.status = "starting: loading the embedding model…"
        self.ready = threading.Event()
        self.served_pdfs: set[Path] = set()  # local PDFs the app may serve (see launch)

    def _key_of(self, llm) -> str:
        """Which discovered option is in use: get_llm picks the first one found."""
        return self.generators[0].key if llm is not None and self.generators else "none"

    def use_generator(self, key: str) -> str:
        """Switch the generator for every new question (running answers keep theirs)."""
        option = next((o for o in self.generators if o.key == key), None)
        if option is None:
            raise PaperlensError(f"no generator {key!r}")
        self.llm = option.make()
        self.generator_key = key
        self.awaiting_generator = False  # the user's choice stands
        self.status = self._ready_line()
        return option.label

    def adopt_installed_generator(self) -> bool:
        """Switch to the best generator once the background build has finished
        (the app answered with quoted passages until then). True if it switched."""
        if not self.awaiting_generator or generator_installing(self.settings):
            return False
        self.awaiting_generator = False
        self.generators = discover_generators(self.settings)
        self.llm = get_llm(self.settings)
        self.generator_key = self._key_of(self.llm)
        if self.ready.is_set():
            self.status = self._ready_line()
        return True

    def pdf_link(self, evidence: Evidence) -> str | None:
        """A link that opens the passage's PDF at its page, served only if it is ours."""
        if evidence.url and safe_url(evidence.url):
            return evidence.url
        if evidence.url and evidence.url.startswith("file://"):
            path = Path(evidence.source).resolve()
            if self._may_serve(path):
                return f"gradio_api/file={quote(str(path))}#page={evidence.page or 1}"
        return None

    def _may_serve(self, path: Path) -> bool:
        roots = [self.settings.home / "uploads", self.settings.cache_dir / "pdf"]
        inside = any(path.is_relative_to(r.resolve()) for r in roots if r.exists())
        return inside or path in self.served_pdfs

    def allowed_paths(self) -> list[str]:
        """What Gradio may serve: uploads, arXiv's PDF cache, and the library's local PDFs."""
        for source in self.library.store.sources():
            path = Path(source.uri)
            if path.suffix.lower() == ".pdf" and path.is_file():
                self.served_pdfs.add(path.resolve())
        roots = [self.settings.home / "uploads", self.settings.cache_dir / "pdf"]
        for root in roots:
            root.mkdir(parents=True, exist_ok=True)
        return [str(r.resolve()) for r in roots] + [str(p) for p in self.served_pdfs]

    def warm_up(self) -> None:
        """Load the model and index the bundled samples on first run (background)."""
        try:
            store = self.library.store
            if store.stats()["papers"] == 0 and SAMPLES.is_dir():
                self.status = "indexing the sample library (first run)…"
                self.library.ingest(sample_digests(), pdfs=False)
            self.library.searcher.lexical()
            self.status = self._ready_line()
        except PaperlensError as exc:
            self.status = f"error: {exc}"
        except Exception:  # a bug, not a user mistake: log it, show one line
            log.exception("start-up failed")
            self.status = "error: start-up failed (see the server log)"
        finally:
            self.ready.set()

    def _ready_line(self) -> str:
        stats = self.library.store.stats()
        generator = self.llm.name if self.llm else "none (answers quote passages)"
        if self.awaiting_generator:
            generator = AWAITING_GENERATOR
        return (
            f"ready: {stats['papers']} papers, {stats['passages']} passages, "
            f"languages {', '.join(sorted(stats['languages']))}; generator: {generator}"
        )

    def wait(self) -> None:
        if not self.ready.wait(timeout=600):
            raise PaperlensError("still starting up, try again in a moment")


# ---- rendering ----------------------------------------------------------------------


def safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"^https?://[^\s\"'<>]+$", url) else None


def link(url: str | None, text: str) -> str:
    url = safe_url(url)
    label = html.escape(text)
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{label}</a>' if url else label
    )


def sources_panel(answer: Answer | None, panel: str = "ask-sources") -> str:
    """Cited passages, each clickable to show it in context, with its scores."""
    if answer is None or not answer.citations:
        return "<p><em>No cited passages.</em></p>"
    items = []
    for c in answer.citations:
        where = f", page {c.page}" if c.page else ""
        items.append(
            f'<div class="pl-source" id="{panel}-{c.n}" data-n="{c.n}"'
            f'{_passage_attr(c.passage_id)} title="Show this passage in context">'
            f"<strong>[{c.n}]</strong> {link(c.url, c.title)}{html.escape(where)} "
            f"{score_badge(c.score, c.relevance)}"
            f"<blockquote>{html.escape(c.passage)}</blockquote></div>"
        )
    mode = {"extractive": " (retrieval only)", "no-results": ""}.get(answer.mode, "")
    notes = "".join(
        f'<p class="{"pl-weak" if w.startswith("weak evidence") else ""}"><em>Note: '
        f"{html.escape(w)}</em></p>"
        for w in answer.warnings
    )
    hint = "<p class='pl-score'>Click a passage to see it in its page or digest entry.</p>"
    return f"{notes}<h4>Sources{html.escape(mode)}</h4>{hint}" + "".join(items)


def score_badge(score: float | None, relevance: float | None = None) -> str:
    parts = []
    if relevance is not None:
        weak = " pl-weak" if relevance < WEAK_EVIDENCE else ""
        parts.append(f'<span class="pl-score{weak}">relevance {relevance:.2f}</span>')
    if score is not None:
        parts.append(f'<span class="pl-score">score {score:.2f}</span>')
    return " · ".join(parts)


def cite_links(text: str, panel: str) -> str:
    """Escaped answer text whose [n] markers click the matching sources entry."""
    return re.sub(
        r"\[(\d+)\]",
        lambda m: (
            f'<a class="pl-cite" href="#{panel}-{m[1]}" data-panel="{panel}-box" '
            f'data-n="{m[1]}">[{m[1]}]</a>'
        ),
        html.escape(text),
    )


def hits_table(hits) -> str:
    rows = [
        [
            str(h.rank),
            link(h.url, h.title),
            html.escape(h.arxiv_id or ""),
            f"{h.score:.3f}",
            html.escape(h.lang or "?") + (f", p.{h.page}" if h.page else ""),
            html.escape(snippet(h.passage, 220)),
        ]
        for h in hits
    ]
    attrs = [_passage_attr(h.passage_id) for h in hits]
    return _table(["#", "Paper", "arXiv", "Score", "Where", "Passage"], rows, "No results.", attrs)


def similar_table(results) -> str:
    rows = [
        [
            str(i),
            link(r.paper.url, r.paper.title),
            html.escape(r.paper.arxiv_id or ""),
            f"{r.score:.3f}",
            html.escape(snippet(r.why[0].text, 220) if r.why else ""),
        ]
        for i, r in enumerate(results, 1)
    ]
    attrs = [_passage_attr(r.why[0].id if r.why else None) for r in results]
    return _table(["#", "Paper", "arXiv", "Score", "Why"], rows, "No similar papers.", attrs)


def _table(
    headers: list[str], rows: list[list[str]], empty: str, attrs: list[str] | None = None
) -> str:
    """An HTML table from cells that are already escaped."""
    if not rows:
        return f"<p><em>{empty}</em></p>"
    attrs = attrs or [""] * len(rows)
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr>"
    body = "".join(
        f"<tr{a}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>"
        for row, a in zip(rows, attrs, strict=True)
    )
    return f"<table class='pl-table'>{head}{body}</table>"


def _passage_attr(passage_id: int | None) -> str:
    return f' data-passage="{int(passage_id)}"' if passage_id is not None else ""


def evidence_html(evidence: Evidence, link_url: str | None) -> str:
    """The header and text of a passage shown in context (the page image is separate)."""
    where = f"page {evidence.page}" if evidence.page else evidence.kind
    opener = (
        f' · <a href="{html.escape(link_url)}" target="_blank" rel="noopener">'
        f"{'open the PDF at this page' if evidence.kind == 'pdf' else 'open the source'}</a>"
        if link_url
        else ""
    )
    source = (
        ""
        if evidence.kind == "pdf"
        else f"<p class='pl-score'>from {html.escape(evidence.source)}</p>"
    )
    notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in evidence.notes)
    body = evidence.context or evidence.text
    quoted = html.escape(body)
    if evidence.context and evidence.text in body:  # mark the passage inside its entry
        quoted = quoted.replace(
            html.escape(evidence.text), f"<mark>{html.escape(evidence.text)}</mark>", 1
        )
    return (
        f"<div class='pl-evidence'><h4>{html.escape(evidence.title)} — {html.escape(where)}"
        f"{opener}</h4>{source}{notes}<blockquote>{quoted}</blockquote></div>"
    )


LIBRARY_HEADERS = ["Select", "Title", "Languages", "Sources", "Passages", "PDF", "id"]
SOURCE_HEADERS = ["Source", "Kind", "Status", "Problems", "Ingested"]


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
    """Every ingested source: status, error, and warnings/skipped when the store has them."""
    rows = []
    for s in library.store.sources():
        problems = [s.error] if s.error else []
        warnings = getattr(s, "warnings", None)
        if warnings:
            problems += list(warnings) if isinstance(warnings, list | tuple) else [str(warnings)]
        skipped = getattr(s, "skipped", None)
        if skipped:
            problems.append(f"{skipped} entries skipped")
        rows.append([s.uri, s.kind, s.status, "; ".join(problems), s.ingested_at])
    return rows


def paper_choices(library: Library, papers: list | None = None) -> list[str]:
    papers = library.store.papers() if papers is None else papers
    choices = []
    for p in papers:
        choices.append(f"{p.title} [{p.arxiv_id or p.id}]")
        choices += [f"{t} [{p.arxiv_id or p.id}]" for t in p.titles.values() if t != p.title]
    return choices


def paper_ref(choice: str) -> str:
    """ "Title [2106.09685]" -> "2106.09685"; free text passes through."""
    match = re.search(r"\[([^\[\]]+)\]\s*$", choice or "")
    return match.group(1) if match else (choice or "").strip()


def reranking(app: App) -> str:
    settings = app.library.settings
    name = getattr(settings, "rerank_model", "off") or "off"
    if name == "off":
        return "off (hybrid dense + BM25 fusion only)"
    loaded = getattr(app.library, "reranker", None) is not None
    state = "" if loaded else " — not installed, so search uses hybrid fusion only"
    return f"{name} over the top {getattr(settings, 'rerank_candidates', '?')} passages{state}"


def settings_markdown(app: App) -> str:
    """What the app runs on: generators, models, index statistics."""
    stats = app.library.store.stats()
    current = next((o.label for o in app.generators if o.key == app.generator_key), "none")
    if app.awaiting_generator:
        current = AWAITING_GENERATOR
    found = "\n".join(f"  - `{o.key}`: {o.label}" for o in app.generators)
    languages = ", ".join(f"{k} {v}" for k, v in sorted(stats["languages"].items()))
    lines = [
        f"**Generator in use:** {current}",
        f"**Generators detected:**\n{found}",
        f"**Embedding model:** {app.library.embedder.name} ({stats['dim']} dims)",
        f"**Reranking:** {reranking(app)}",
        f"**Index:** {stats['papers']} papers, {stats['passages']} passages "
        f"({stats['pdf_papers']} papers with PDF pages), {stats['sources']} sources "
        f"({stats['failed_sources']} failed), {stats['index_bytes'] / 1e6:.1f} MB",
        f"**Passages by language:** {languages or 'none'}",
        f"**Data directory:** `{stats['home']}`",
    ]
    return html.escape("\n\n".join(lines), quote=False)


# ---- uploads -------------------------------------------------------------------------


def store_uploads(paths: list[str], settings: Settings) -> tuple[list[str], list[str]]:
    """Copy accepted uploads under the data dir with safe names; (stored, errors)."""
    folder = settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    stored, errors = [], []
    limit = settings.max_upload_mb * 1024 * 1024
    for path in paths or []:
        source = Path(path)
        name = re.sub(r"[^\w.\-]+", "_", source.name).strip("._") or "upload"
        if source.suffix.lower() not in SUPPORTED:
            errors.append(f"{name}: only PDF, text, Markdown or HTML files are accepted")
        elif source.stat().st_size > limit:
            errors.append(f"{name}: larger than the {settings.max_upload_mb:g} MB upload limit")
        elif source.suffix.lower() == ".pdf" and source.read_bytes()[:5] != b"%PDF-":
            errors.append(f"{name}: not a PDF")
        else:
            target = folder / name
            shutil.copyfile(source, target)
            stored.append(str(target))
    return stored, errors


# ---- the UI --------------------------------------------------------------------------


def evidence_view(app: App, key: str):
    """A passage-in-context area: its text (or digest entry) and its PDF page image."""
    text = gr.HTML("", elem_id=f"{key}-evidence")
    image = gr.Image(
        label="The cited page (passage highlighted)",
        type="pil",
        visible=False,
        interactive=False,
        elem_id=f"{key}-evidence-image",
    )

    def show(evt: gr.EventData):
        try:
            evidence = passage_context(app.library, int(evt.passage))
        except (PaperlensError, ValueError, AttributeError) as exc:
            return f"<p>⚠️ {html.escape(str(exc))}</p>", gr.update(visible=False, value=None)
        page = Image.open(io.BytesIO(evidence.image)) if evidence.image else None
        return evidence_html(evidence, app.pdf_link(evidence)), gr.update(
            visible=page is not None, value=page
        )

    return text, image, show


def clickable_html(value: str = "", elem_id: str | None = None) -> gr.HTML:
    return gr.HTML(value, elem_id=elem_id, js_on_load=PASSAGE_CLICKS)


def build(app: App) -> gr.Blocks:
    lib = app.library
    with gr.Blocks(title="paperlens") as demo:
        gr.Markdown(
            "# paperlens\nSearch and ask across ML paper digests and papers, in any language."
        )
        status = gr.Markdown(app.status)
        seen = gr.State(-1)  # the catalog generation this page last showed
        # The generator choices this page shows (a background build may add one).
        shown_generators = gr.State(tuple((o.label, o.key) for o in app.generators))

        with gr.Tab("Ask"):
            chatbot = gr.Chatbot(height=420, label="Answers cite passages as [n]")
            with gr.Row():
                question = gr.Textbox(placeholder="Ask in any language…", scale=5, label="Question")
                lang = gr.Dropdown(LANGUAGES, value="auto", label="Answer language", scale=1)
            with gr.Row():
                ask_button = gr.Button("Ask", variant="primary", scale=4)
                ask_stop = gr.Button("Stop", variant="stop", scale=1)
            sources = clickable_html(
                "<p><em>Cited passages appear here.</em></p>", "ask-sources-box"
            )
            ask_text, ask_image, ask_show = evidence_view(app, "ask")
            sources.click(ask_show, None, [ask_text, ask_image])
            gr.Examples(EXAMPLES, inputs=question)

            def on_ask(message: str, history: list, language: str) -> Iterator:
                history = list(history or [])
                pairs = _pairs(history)
                history.append({"role": "user", "content": message})
                history.append({"role": "assistant", "content": ""})
                try:
                    app.wait()
                    text = ""
                    for item in ask_stream(lib, message, lang=language, history=pairs, llm=app.llm):
                        if isinstance(item, Answer):
                            history[-1]["content"] = cite_links(item.text, "ask-sources")
                            yield history, "", sources_panel(item, "ask-sources")
                        else:
                            text += item
                            history[-1]["content"] = html.escape(text)
                            yield history, "", gr.skip()
                except PaperlensError as exc:
                    history[-1]["content"] = f"⚠️ {html.escape(str(exc))}"
                    yield history, "", gr.skip()

            ask_io = ([question, chatbot, lang], [chatbot, question, sources])
            asked = ask_button.click(on_ask, *ask_io, concurrency_limit=1, concurrency_id="llm")
            submitted = question.submit(on_ask, *ask_io, concurrency_limit=1, concurrency_id="llm")
            ask_stop.click(None, cancels=[asked, submitted])

        with gr.Tab("Search"):
            query = gr.Textbox(label="Query (any language)")
            search_button = gr.Button("Search")
            results = clickable_html()
            search_text, search_image, search_show = evidence_view(app, "search")
            results.click(search_show, None, [search_text, search_image])
            search_button.click(
                lambda q: _guard(lambda: hits_table(lib.searcher.search(q, k=10))),
                query,
                results,
                concurrency_limit=4,
            )

        with gr.Tab("Similar papers"):
            paper = gr.Dropdown(
                choices=[], allow_custom_value=True, label="Paper (title or arXiv id)"
            )
            text = gr.Textbox(label="…or papers like this text", lines=3)
            similar_button = gr.Button("Find similar papers")
            similar_out = clickable_html("", "similar-out")
            similar_text, similar_image, similar_show = evidence_view(app, "similar")
            similar_out.click(similar_show, None, [similar_text, similar_image])

            def on_similar(choice: str, body: str) -> str:
                if body and body.strip():
                    return _guard(lambda: similar_table(similar_to_text(lib, body, 8)))
                return _guard(lambda: similar_table(similar_to_paper(lib, paper_ref(choice), 8)))

            similar_button.click(on_similar, [paper, text], similar_out, concurrency_limit=4)

        with gr.Tab("Summarize"):
            summary_paper = gr.Dropdown(choices=[], allow_custom_value=True, label="Paper")
            summary_lang = gr.Dropdown(LANGUAGES[1:], value="en", label="Language")
            with gr.Row():
                summary_button = gr.Button("Summarize", variant="primary", scale=4)
                summary_stop = gr.Button("Stop", variant="stop", scale=1)
            summary_text = gr.HTML()
            summary_sources = clickable_html("", "summary-sources-box")
            sum_text, sum_image, sum_show = evidence_view(app, "summary")
            summary_sources.click(sum_show, None, [sum_text, sum_image])

            def on_summarize(choice: str, language: str) -> Iterator:
                try:
                    app.wait()
                    text = ""
                    for item in summarize_stream(
                        lib, paper_ref(choice), lang=language, llm=app.llm
                    ):
                        if isinstance(item, Answer):
                            yield (
                                f"<p>{cite_links(item.text, 'summary-sources')}</p>",
                                sources_panel(item, "summary-sources"),
                            )
                        else:
                            text += item
                            yield f"<p>{html.escape(text)}</p>", gr.skip()
                except PaperlensError as exc:
                    yield f"<p>⚠️ {html.escape(str(exc))}</p>", ""

            summarized = summary_button.click(
                on_summarize,
                [summary_paper, summary_lang],
                [summary_text, summary_sources],
                concurrency_limit=1,
                concurrency_id="llm",
            )
            summary_stop.click(None, cancels=[summarized])

        with gr.Tab("Library"):
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
                filter_lang = gr.Dropdown(["all", *LANGUAGES[1:]], value="all", label="Language")
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
                chosen_source = gr.Textbox(label="Source to re-ingest", scale=4)
                reingest_button = gr.Button("Re-ingest", scale=1)

            def on_add(lines: str, files: list | None, pdfs: bool, progress=PROGRESS):
                try:
                    app.wait()
                    refs = [ln.strip() for ln in (lines or "").splitlines() if ln.strip()]
                    stored, errors = store_uploads(files or [], app.settings)
                    events: list[str] = [f"error: {e}" for e in errors]
                    todo = refs + stored
                    for n, ref in enumerate(todo):
                        name = f"ingesting {Path(ref).name} ({n + 1}/{len(todo)})"
                        progress((n, len(todo)), desc=name)
                        meter = Throughput()

                        def embedded(done: int, total: int, name=name, meter=meter) -> None:
                            # Same figures as the CLI's bar: passages/s and time left.
                            progress((done, total), desc=f"{name}: {meter.describe(done, total)}")

                        lib.ingest([ref], pdfs=pdfs, on_event=events.append, on_progress=embedded)
                    app.status = app._ready_line()
                    return "\n".join(f"- {html.escape(e)}" for e in events) or "nothing to add"
                except PaperlensError as exc:
                    return f"⚠️ {html.escape(str(exc))}"

            added = add_button.click(
                on_add, [urls, uploads, fetch_pdfs], report, concurrency_limit=1
            )
            add_stop.click(None, cancels=[added])

            def on_delete(frame) -> str:
                ids = selected_ids(frame)
                if not ids:
                    return "tick the Select box of the papers to delete first"
                deleted = [pid for pid in ids if lib.store.delete_paper(pid)]
                app.status = app._ready_line()
                return f"deleted {len(deleted)} paper(s): " + html.escape(", ".join(deleted))

            delete_button.click(on_delete, table, report, concurrency_limit=1)

            def on_source(evt: gr.SelectData) -> str:
                row = evt.row_value or []
                return str(row[0]) if row else ""

            source_table.select(on_source, None, chosen_source)

            def on_reingest(uri: str) -> str:
                if not (uri or "").strip():
                    return "click a source row first"
                try:
                    events: list[str] = []
                    lib.ingest([uri.strip()], pdfs=False, on_event=events.append)
                    app.status = app._ready_line()
                    return "\n".join(f"- {html.escape(e)}" for e in events) or "done"
                except PaperlensError as exc:
                    return f"⚠️ {html.escape(str(exc))}"

            reingest_button.click(on_reingest, chosen_source, report, concurrency_limit=1)

            def on_filter(text: str, language: str):
                return library_rows(lib, None, text, language)

            filter_text.change(on_filter, [filter_text, filter_lang], table)
            filter_lang.change(on_filter, [filter_text, filter_lang], table)

        with gr.Tab("Settings"):
            settings_info = gr.Markdown()
            generator = gr.Radio(
                [(o.label, o.key) for o in app.generators],
                value=app.generator_key,
                label="Generator for new questions and summaries",
            )
            generator_note = gr.Markdown()

            def on_generator(key: str):
                try:
                    label = app.use_generator(key)
                    return f"new questions now use: {html.escape(label)}", settings_markdown(app)
                except PaperlensError as exc:
                    return f"⚠️ {html.escape(str(exc))}", gr.skip()

            generator.change(on_generator, generator, [generator_note, settings_info])

        catalog_outputs = [paper, summary_paper, table, source_table, settings_info]

        def on_tick(generation: int, text: str, language: str, shown: tuple):
            """Status every tick; pickers and tables only when the catalog changed; the
            generator choices when a background build added one."""
            switched = app.adopt_installed_generator()
            offered = tuple((o.label, o.key) for o in app.generators)
            radio = gr.skip()
            if offered != shown:
                radio, shown = gr.update(choices=list(offered), value=app.generator_key), offered
            unchanged = not app.ready.is_set() or (
                lib.store.generation == generation and not switched
            )
            if unchanged:
                return (app.status, generation, shown, radio, *[gr.skip()] * len(catalog_outputs))
            current = lib.store.generation
            papers = lib.store.papers()  # one catalog pass for the pickers and the table
            choices = paper_choices(lib, papers)
            return (
                app.status,
                current,
                shown,
                radio,
                gr.update(choices=choices),
                gr.update(choices=choices),
                library_rows(lib, papers, text, language),
                source_rows(lib),
                settings_markdown(app),
            )

        tick_io = (
            [seen, filter_text, filter_lang, shown_generators],
            [status, seen, shown_generators, generator, *catalog_outputs],
        )
        gr.Timer(2.0).tick(
            on_tick, *tick_io, show_progress="hidden", concurrency_limit=None, queue=False
        )
        demo.load(on_tick, *tick_io, show_progress="hidden", queue=False)
    return demo


def _pairs(history: list[dict]) -> list[tuple[str, str]]:
    """Chatbot messages -> (question, answer) pairs for follow-up condensing."""
    pairs, question = [], None
    for message in history:
        if message.get("role") == "user":
            question = _message_text(message.get("content"))
        elif message.get("role") == "assistant" and question is not None:
            pairs.append((question, _message_text(message.get("content"))))
            question = None
    return pairs


def _message_text(content) -> str:
    """Gradio 6 sends message content as a list of typed parts; older as a string."""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _guard(render) -> str:
    try:
        return render()
    except PaperlensError as exc:
        return f"<p>⚠️ {html.escape(str(exc))}</p>"


def launch_options(
    host: str | None = None, port: int | None = None, root_path: str | None = None
) -> dict:
    """Where to listen, Gradio's conventions first.

    Host: --host, else GRADIO_SERVER_NAME, else 127.0.0.1 (Gradio reads the env
    var itself when given None). Port: --port, else GRADIO_SERVER_PORT, else
    PAPERLENS_PORT, else 7860. Root path (behind a reverse proxy): --root-path,
    else GRADIO_ROOT_PATH (read by Gradio).
    """
    env_port = os.environ.get("GRADIO_SERVER_PORT") or os.environ.get("PAPERLENS_PORT")
    return {
        "server_name": host or None,
        "server_port": port or int(env_port or 7860),
        "root_path": root_path or None,
    }


def main(port: int | None = None, host: str | None = None, root_path: str | None = None) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    app = App(settings)
    allowed = app.allowed_paths()
    threading.Thread(target=app.warm_up, daemon=True).start()
    demo = build(app)
    demo.queue(default_concurrency_limit=2)
    demo.launch(
        **launch_options(host, port, root_path),
        share=False,
        max_file_size=f"{settings.max_upload_mb:g}mb",
        show_error=False,
        allowed_paths=allowed,
        css=CSS,
        js=CITE_CLICKS,
    )
