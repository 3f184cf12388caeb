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

import contextlib
import hashlib
import html
import io
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import gradio as gr
from PIL import Image

from assistant import mcp_http
from assistant.access import LIBRARIAN, AccessPolicy
from assistant.api import Paperlens
from assistant.chat import ask_stream
from assistant.evidence import Evidence, passage_context
from assistant.fairuse import GeneratorGate, Ticket
from assistant.llm import discover_generators, generator_health, get_llm
from assistant.markup import markdown_literal
from assistant.rag import Answer
from assistant.relevance import WEAK_EVIDENCE
from assistant.similar import similar_to_paper, similar_to_text
from assistant.summarize import summarize_stream
from assistant.webauth import auth_launch_options, check_exposure
from index.hits import snippet
from index.library import Library
from index.limits import check_query
from index.progress import Throughput
from ingest.arxiv import parse_arxiv_ref
from ingest.config import Settings
from ingest.errors import PaperlensError, user_error
from ingest.languages import ANSWER_LANGUAGES
from ingest.sources import SUPPORTED

log = logging.getLogger("paperlens.app")
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def sample_digests() -> list[str]:
    """The bundled sample digests (not their README, which describes them)."""
    return [
        str(p) for p in sorted(SAMPLES.glob("*")) if p.suffix in SUPPORTED and p.stem != "README"
    ]


LANGUAGES = ["auto", *ANSWER_LANGUAGES]
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


class App:
    """Holds the library and the start-up state shared by every session."""

    def __init__(self, settings: Settings, host: str | None = None) -> None:
        self.settings = settings
        self.access = AccessPolicy.from_settings(settings, host=host)
        self.gate = GeneratorGate(
            slots=settings.generator_slots,
            per_user=settings.requests_per_user,
            run_timeout=settings.generation_timeout,
            queue_timeout=settings.queue_timeout,
        )
        self.library = Library(settings, show_progress=False)
        self.llm = get_llm(settings)
        self.generators = discover_generators(settings)
        self.generator_key = self._key_of(self.llm)
        self._status = "starting: loading the embedding model…"
        self.ready = threading.Event()
        self.served_pdfs: set[Path] = set()  # local PDFs the app may serve (see launch)

    def require_librarian(self, request: gr.Request | None) -> str:
        """The caller's name if they may change the library or its settings, else
        AccessDenied (a PaperlensError). Call it first in every handler that changes
        state: Gradio's HTTP API reaches handlers whatever the page shows."""
        return self.access.require(request, LIBRARIAN)

    def user_key(self, request: gr.Request | None) -> str:
        """Whose request this is, for fair use: the signed-in name; with no sign-in, the
        browser tab on loopback (one person, several tabs), else the client address
        (tabs cost nothing to open)."""
        name = getattr(request, "username", None)
        if name:
            return f"user:{name}"
        if self.access.mode == "none" and self.access.anonymous_role == LIBRARIAN:
            return f"tab:{getattr(request, 'session_hash', None)}"
        client = getattr(request, "client", None)
        return f"addr:{getattr(client, 'host', None) or 'unknown'}"

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
        self.status = self._ready_line()
        return option.label

    @property
    def status(self) -> str:
        """The status line, with the local generator's health when it is not serving
        (starting, or stopped after a crash: it restarts with the next question)."""
        health = generator_health(self.llm)
        return f"{self._status} ({health})" if health and self.ready.is_set() else self._status

    @status.setter
    def status(self, line: str) -> None:
        self._status = line

    def warm_generator(self) -> None:
        """Start the local generator's server in the background, so the first question
        does not wait for the model to load; a failure shows in the status line."""
        warm = getattr(self.llm, "warm", None)
        if warm is None:
            return

        def run() -> None:
            try:
                warm()
            except PaperlensError as exc:
                self.status = f"{self._ready_line()}; generator failed to start: {exc}"

        threading.Thread(target=run, daemon=True, name="generator-warm-up").start()

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
        arxiv_cache = (self.settings.cache_dir / "pdf").resolve()
        return path.is_relative_to(arxiv_cache) or path in self.served_pdfs

    def allowed_paths(self) -> list[str]:
        """What Gradio may serve: arXiv's PDF cache and the PDFs the operator ingested
        from the server's disk (`paperlens ingest FILE`). Never uploads: those are
        shown only as rendered page images, never handed back as files."""
        uploads = (self.settings.home / "uploads").resolve()
        for source in self.library.store.sources():
            path = Path(source.uri)
            if path.suffix.lower() == ".pdf" and path.is_file():
                resolved = path.resolve()
                if not resolved.is_relative_to(uploads):
                    self.served_pdfs.add(resolved)
        root = self.settings.cache_dir / "pdf"
        root.mkdir(parents=True, exist_ok=True)
        return [str(root.resolve())] + [str(p) for p in self.served_pdfs]

    def warm_up(self) -> None:
        """Load the model and index the bundled samples on first run (background)."""
        try:
            store = self.library.store
            if store.stats()["papers"] == 0 and SAMPLES.is_dir():
                self.status = "indexing the sample library (first run)…"
                self.library.ingest(sample_digests(), pdfs=False)
            self.library.searcher.lexical()
            self.status = self._ready_line()
            self.warm_generator()
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


def cite_links(text: str, panel: str, escape=html.escape) -> str:
    """Escaped answer text whose [n] markers click the matching sources entry.

    `escape` is html.escape for HTML panels, markdown_literal for the chatbot
    (which renders Markdown: answer text quotes documents)."""
    parts = re.split(r"\[(\d+)\]", text or "")
    return "".join(
        escape(part)
        if i % 2 == 0
        else (
            f'<a class="pl-cite" href="#{panel}-{part}" data-panel="{panel}-box" '
            f'data-n="{part}">[{part}]</a>'
        )
        for i, part in enumerate(parts)
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
    """Every ingested source: its status, and its problems: the error, and the warnings
    of its last ingest (entries that linked no paper, PDFs skipped...)."""
    rows = []
    for s in library.store.sources():
        problems = [s.error] if s.error else []
        rows.append([s.uri, s.kind, s.status, "; ".join([*problems, *s.warnings]), s.ingested_at])
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
    if health := generator_health(app.llm):
        current = f"{current} ({health})"
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


# ---- changing the library ------------------------------------------------------------


def refresh_sources(app: App, pdfs: bool, request: gr.Request | None) -> str:
    """The Refresh sources button (librarians): every URL source fetched again, changes
    ingested; one Markdown line per source, document text escaped."""
    try:
        app.require_librarian(request)
        app.wait()
        events: list[str] = []
        report = app.library.refresh(pdfs=pdfs, on_event=events.append)
        app.status = app._ready_line()
    except PaperlensError as exc:
        return f"⚠️ {html.escape(str(exc))}"
    if not report.outcomes:
        return "no URL sources to refresh: add a digest by its URL first"
    data = report.to_json()
    lines = [f"- {html.escape(e)}".replace("\n", "<br>") for e in events]
    summary = (
        f"**{data['checked']} sources checked, {data['updated']} updated, "
        f"{data['papers_added']} papers added, {data['failed']} failed**"
    )
    return "\n".join([summary, *lines])


# ---- uploads -------------------------------------------------------------------------


def store_uploads(paths: list[str], settings: Settings) -> tuple[list[str], list[str]]:
    """Copy accepted uploads under the data dir; (stored, errors).

    Each upload lands in a folder named by its content's hash, so two people's
    files of the same name never replace each other (the same bytes land in the
    same place). Gradio's temporary copy is removed: uploads are not served back.
    """
    folder = settings.home / "uploads"
    stored, errors = [], []
    limit = settings.max_upload_mb * 1024 * 1024
    for path in paths or []:
        source = Path(path)
        name = re.sub(r"[^\w.\-]+", "_", source.name).strip("._") or "upload"
        if source.suffix.lower() not in SUPPORTED:
            errors.append(f"{name}: only PDF, text, Markdown or HTML files are accepted")
        elif source.stat().st_size > limit:
            errors.append(f"{name}: larger than the {settings.max_upload_mb:g} MB upload limit")
        elif source.suffix.lower() == ".pdf" and _head(source) != b"%PDF-":
            errors.append(f"{name}: not a PDF")
        else:
            target = folder / _file_sha256(source)[:24] / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            stored.append(str(target))
        _drop_gradio_copy(source)
    return stored, errors


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(5)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _drop_gradio_copy(path: Path) -> None:
    """Delete Gradio's cached upload (its file route would serve it to anyone signed in)."""
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    try:
        if path.resolve().is_relative_to(cache.resolve()):
            path.unlink(missing_ok=True)
    except OSError:
        pass


def web_refs(text: str) -> list[str]:
    """The add box's lines as URLs: http(s) URLs and arXiv ids only.

    Never a path on the server: the app would read the server's files for whoever
    asked, and its errors ("no such file" vs "unsupported type") would tell them
    which files exist. arXiv ids become abs URLs so no argument is ever looked
    up on the disk. Files come in through the upload box; the operator ingests
    server folders with `paperlens ingest`.
    """
    refs = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.lower().startswith(("http://", "https://")):
            refs.append(line)
        elif (arxiv := parse_arxiv_ref(line)) is not None:
            refs.append(f"https://arxiv.org/abs/{arxiv[0]}{arxiv[1] or ''}")
        else:
            shown = line if len(line) <= 80 else line[:77] + "…"
            raise PaperlensError(
                f"{shown}: not a URL or arXiv id (upload files with the box below; "
                "the app never reads paths on the server)"
            )
    return refs


def error_line(exc: Exception) -> str:
    """One escaped line for a user-caused or environmental error; re-raises bugs."""
    known = exc if isinstance(exc, PaperlensError) else user_error(exc)
    if known is None:
        raise exc
    return f"⚠️ {html.escape(str(known))}"


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
        status = gr.Markdown(markdown_literal(app.status))
        who = gr.Markdown("")
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

            def on_ask(message: str, history: list, language: str, request: gr.Request) -> Iterator:
                history = list(history or [])
                pairs = _pairs(history)
                history.append({"role": "user", "content": markdown_literal(message[:2000])})
                history.append({"role": "assistant", "content": ""})
                try:
                    check_query(message, app.settings, "question")
                    app.wait()
                    with generator_turn(app, request) as turn:
                        for ahead in turn.wait():
                            history[-1]["content"] = waiting_line(ahead)
                            yield history, gr.skip(), gr.skip()
                        history[-1]["content"] = ""
                        text = ""
                        stream = ask_stream(lib, message, lang=language, history=pairs, llm=app.llm)
                        for item in stream:
                            turn.check()
                            if isinstance(item, Answer):
                                history[-1]["content"] = cite_links(
                                    item.text, "ask-sources", markdown_literal
                                )
                                yield history, "", sources_panel(item, "ask-sources")
                            else:
                                text += item
                                history[-1]["content"] = markdown_literal(text)
                                yield history, "", gr.skip()
                except Exception as exc:  # error_line re-raises what is not the user's
                    history[-1]["content"] = error_line(exc)
                    yield history, gr.skip(), gr.skip()

            ask_io = ([question, chatbot, lang], [chatbot, question, sources])
            # Gradio runs up to LLM_WORKERS of these at once; GeneratorGate inside
            # decides who generates (app.gate: per-person limits, order, timeouts).
            llm_events = {"concurrency_limit": LLM_WORKERS, "concurrency_id": "llm"}
            asked = ask_button.click(on_ask, *ask_io, **llm_events)
            submitted = question.submit(on_ask, *ask_io, **llm_events)
            ask_stop.click(None, cancels=[asked, submitted])

        with gr.Tab("Search"):
            query = gr.Textbox(label="Query (any language)")
            search_button = gr.Button("Search")
            results = clickable_html()
            search_text, search_image, search_show = evidence_view(app, "search")
            results.click(search_show, None, [search_text, search_image])
            search_button.click(
                lambda q: _guard(
                    lambda: hits_table(lib.searcher.search(check_query(q, app.settings), k=10))
                ),
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
                    return _guard(
                        lambda: similar_table(
                            similar_to_text(lib, check_query(body, app.settings, "text"), 8)
                        )
                    )
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

            def on_summarize(choice: str, language: str, request: gr.Request) -> Iterator:
                try:
                    check_query(choice, app.settings, "paper")
                    app.wait()
                    with generator_turn(app, request) as turn:
                        for ahead in turn.wait():
                            yield f"<p><em>{html.escape(waiting_line(ahead))}</em></p>", gr.skip()
                        text = ""
                        for item in summarize_stream(
                            lib, paper_ref(choice), lang=language, llm=app.llm
                        ):
                            turn.check()
                            if isinstance(item, Answer):
                                yield (
                                    f"<p>{cite_links(item.text, 'summary-sources')}</p>",
                                    sources_panel(item, "summary-sources"),
                                )
                            else:
                                text += item
                                yield f"<p>{html.escape(text)}</p>", gr.skip()
                except Exception as exc:  # error_line re-raises what is not the user's
                    yield f"<p>{error_line(exc)}</p>", ""

            summarized = summary_button.click(
                on_summarize,
                [summary_paper, summary_lang],
                [summary_text, summary_sources],
                **llm_events,
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
                refresh_button = gr.Button("Refresh sources", scale=1)

            def on_add(
                lines: str,
                files: list | None,
                pdfs: bool,
                request: gr.Request,
                progress=PROGRESS,
            ):
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
                    app.status = app._ready_line()
                    return report_lines(events) or "nothing to add"
                except Exception as exc:  # error_line re-raises what is not the user's
                    return error_line(exc)

            added = add_button.click(
                on_add, [urls, uploads, fetch_pdfs], report, concurrency_limit=1
            )
            add_stop.click(None, cancels=[added])

            def on_delete(frame, request: gr.Request) -> str:
                try:
                    user = app.require_librarian(request)
                    ids = selected_ids(frame)
                    if not ids:
                        return "tick the Select box of the papers to delete first"
                    deleted = [pid for pid in ids if lib.store.delete_paper(pid)]
                    log.info("%s deleted %s", user, deleted)
                    app.status = app._ready_line()
                    return f"deleted {len(deleted)} paper(s): " + markdown_literal(
                        ", ".join(deleted)
                    )
                except Exception as exc:  # error_line re-raises what is not the user's
                    return error_line(exc)

            delete_button.click(on_delete, table, report, concurrency_limit=1)

            def on_source(evt: gr.SelectData) -> str:
                row = evt.row_value or []
                return str(row[0]) if row else ""

            source_table.select(on_source, None, chosen_source)

            def on_reingest(uri: str, request: gr.Request) -> str:
                try:
                    user = app.require_librarian(request)
                    uri = (uri or "").strip()
                    if not uri:
                        return "click a source row first"
                    # Only what the library already holds: never a new path on the server.
                    if lib.store.source(uri) is None:
                        return "⚠️ not a source of this library (click a row of the Sources table)"
                    events: list[str] = []
                    log.info("%s re-ingests %s", user, uri)
                    lib.ingest([uri], pdfs=False, on_event=events.append)
                    app.status = app._ready_line()
                    return report_lines(events) or "done"
                except Exception as exc:  # error_line re-raises what is not the user's
                    return error_line(exc)

            reingest_button.click(on_reingest, chosen_source, report, concurrency_limit=1)

            def on_refresh(pdfs: bool, request: gr.Request) -> str:
                return refresh_sources(app, pdfs, request)

            refresh_button.click(on_refresh, fetch_pdfs, report, concurrency_limit=1)

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

            def on_generator(key: str, request: gr.Request):
                try:
                    if key == app.generator_key:  # a page showing the current choice
                        return gr.skip(), gr.skip()
                    user = app.require_librarian(request)
                    label = app.use_generator(key)
                    log.info("%s switched the generator to %s", user, key)
                    return f"new questions now use: {html.escape(label)}", settings_markdown(app)
                except Exception as exc:  # error_line re-raises what is not the user's
                    return error_line(exc), gr.skip()

            generator.change(on_generator, generator, [generator_note, settings_info])

        catalog_outputs = [paper, summary_paper, table, source_table, settings_info]

        def on_tick(generation: int, text: str, language: str, shown: tuple):
            """Status every tick; pickers and tables only when the catalog changed; the
            generator choices when the ones offered changed."""
            offered = tuple((o.label, o.key) for o in app.generators)
            radio = gr.skip()
            if offered != shown:
                radio, shown = gr.update(choices=list(offered), value=app.generator_key), offered
            unchanged = not app.ready.is_set() or lib.store.generation == generation
            if unchanged:
                line = markdown_literal(app.status)
                return (line, generation, shown, radio, *[gr.skip()] * len(catalog_outputs))
            current = lib.store.generation
            papers = lib.store.papers()  # one catalog pass for the pickers and the table
            choices = paper_choices(lib, papers)
            return (
                markdown_literal(app.status),
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

        # Readers see the librarian's controls disabled. A convenience only: every
        # handler behind them checks the role on the server (app.require_librarian).
        librarian_controls = [urls, uploads, add_button, delete_button, reingest_button, generator]

        def on_roles(request: gr.Request):
            role = app.access.role_of(getattr(request, "username", None))
            name = getattr(request, "username", None)
            line = f"signed in as **{markdown_literal(name)}** ({role})" if name else ""
            editable = role == LIBRARIAN
            return (line, *[gr.update(interactive=editable) for _ in librarian_controls])

        demo.load(on_roles, None, [who, *librarian_controls], queue=False)
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
    except Exception as exc:  # error_line re-raises what is not the user's
        return f"<p>{error_line(exc)}</p>"


# Gradio threads that may run Ask/Summarize handlers at once: most of them only
# wait inside app.gate for the generator (and tell their user their place).
LLM_WORKERS = 16


@contextlib.contextmanager
def generator_turn(app: App, request: gr.Request | None) -> Iterator[Ticket]:
    """A place in line for the generator, given back however the handler ends
    (finished, error, Stop, or Gradio closing the generator of a page that left)."""
    ticket = app.gate.admit(app.user_key(request))
    try:
        yield ticket
    finally:
        ticket.release()


def waiting_line(ahead: int) -> str:
    return f"waiting for the generator: {ahead} request(s) ahead of yours…"


def report_lines(events: list[str]) -> str:
    """Ingest events (they quote titles and URLs from documents) as a Markdown list."""
    return "\n".join(f"- {markdown_literal(e)}" for e in events)


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


def _combined(*options: dict) -> dict:
    """`Blocks.launch` keyword arguments from several parts, their `app_kwargs`
    middlewares concatenated (login's upload check, MCP's route)."""
    merged: dict = {}
    for part in options:
        for key, value in part.items():
            if key != "app_kwargs":
                merged[key] = value
                continue
            kwargs = merged.setdefault("app_kwargs", {})
            for name, item in value.items():
                if name == "middleware":
                    kwargs["middleware"] = [*kwargs.get("middleware", []), *item]
                else:
                    kwargs[name] = item
    return merged


def main(
    port: int | None = None,
    host: str | None = None,
    root_path: str | None = None,
    allow_anonymous: bool | None = None,
) -> None:
    """Start the app; PaperlensError for a configuration that would be unsafe or broken."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    listen = launch_options(host, port, root_path)
    where = listen["server_name"] or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    anonymous_ok = settings.allow_anonymous if allow_anonymous is None else allow_anonymous
    policy = AccessPolicy.from_settings(settings, host=where)
    check_exposure(where, policy, anonymous_ok)  # before loading models
    mcp_http.check_exposure(settings, where, login=policy.mode != "none")
    app = App(settings, host=where)
    log.info("access: %s (anonymous role: %s)", app.access.mode, app.access.anonymous_role)
    allowed = app.allowed_paths()
    threading.Thread(target=app.warm_up, daemon=True).start()
    demo = build(app)
    demo.queue(default_concurrency_limit=2)
    # MCP tools at /mcp when PAPERLENS_MCP_HTTP is on, answering with the app's generator.
    lens = Paperlens(app.library, llm_source=lambda: app.llm)
    demo.launch(
        **listen,
        **_combined(
            auth_launch_options(app.access), mcp_http.launch_options(lens, settings, where)
        ),
        share=False,
        max_file_size=f"{settings.max_upload_mb:g}mb",
        show_error=False,
        allowed_paths=allowed,
        css=CSS,
        js=CITE_CLICKS,
    )
