"""The Gradio app: Ask, Search, Similar papers, Summarize, Library.

Thin by design: every handler calls the same functions as the CLI and only
renders. All document text is HTML-escaped before it is shown; links are
only ever http(s).
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from assistant.chat import ask_stream
from assistant.llm import get_llm
from assistant.rag import Answer
from assistant.similar import similar_to_paper, similar_to_text
from assistant.summarize import summarize_stream
from index.hits import snippet
from index.library import Library
from ingest.config import Settings
from ingest.errors import PaperlensError
from ingest.sources import SUPPORTED

log = logging.getLogger("paperlens.app")
SAMPLES = Path(__file__).resolve().parents[1] / "samples"
LANGUAGES = ["auto", "en", "ko", "ja", "zh", "hi", "fr", "de", "es"]
PROGRESS = gr.Progress()  # Gradio injects a tracker where a handler's default is one
EXAMPLES = [
    "LoRA는 어떻게 학습 파라미터 수를 줄이나요?",
    "アテンションシンクとは何ですか？",
    "Comment le Transformer remplace-t-il la récurrence ?",
    "DPR और BM25 में क्या अंतर है?",
    "What does Mamba change compared to attention?",
]


class App:
    """Holds the library and the start-up state shared by every session."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.library = Library(settings, show_progress=False)
        self.llm = get_llm(settings)
        self.status = "starting: loading the embedding model…"
        self.ready = threading.Event()

    def warm_up(self) -> None:
        """Load the model and index the bundled samples on first run (background)."""
        try:
            store = self.library.store
            if store.stats()["papers"] == 0 and SAMPLES.is_dir():
                self.status = "indexing the sample library (first run)…"
                self.library.ingest([str(SAMPLES)], pdfs=False)
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


def sources_panel(answer: Answer | None) -> str:
    if answer is None or not answer.citations:
        return "<p><em>No cited passages.</em></p>"
    items = []
    for c in answer.citations:
        where = f", page {c.page}" if c.page else ""
        items.append(
            f'<div class="pl-source" id="src-{c.n}"><strong>[{c.n}]</strong> '
            f"{link(c.url, c.title)}{html.escape(where)}"
            f"<blockquote>{html.escape(c.passage)}</blockquote></div>"
        )
    mode = {"extractive": " (retrieval only)", "no-results": ""}.get(answer.mode, "")
    notes = "".join(f"<p><em>Note: {html.escape(w)}</em></p>" for w in answer.warnings)
    return f"{notes}<h4>Sources{html.escape(mode)}</h4>" + "".join(items)


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
    return _table(["#", "Paper", "arXiv", "Score", "Where", "Passage"], rows, "No results.")


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
    return _table(["#", "Paper", "arXiv", "Score", "Why"], rows, "No similar papers.")


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    """An HTML table from cells that are already escaped."""
    if not rows:
        return f"<p><em>{empty}</em></p>"
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in headers) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='pl-table'>{head}{body}</table>"


def library_rows(library: Library, papers: list | None = None) -> list[list]:
    papers = library.store.papers() if papers is None else papers
    return [
        [
            p.title,
            ", ".join(p.languages),
            len(p.sources),
            p.n_passages,
            "yes" if p.has_pdf else "no",
            p.id,
        ]
        for p in papers
    ]


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


def build(app: App) -> gr.Blocks:
    lib = app.library
    with gr.Blocks(title="paperlens") as demo:
        gr.Markdown(
            "# paperlens\nSearch and ask across ML paper digests and papers, in any language."
        )
        status = gr.Markdown(app.status)
        gr.Timer(2.0).tick(lambda: app.status, outputs=status)

        with gr.Tab("Ask"):
            chatbot = gr.Chatbot(height=420, label="Answers cite passages as [n]")
            with gr.Row():
                question = gr.Textbox(placeholder="Ask in any language…", scale=5, label="Question")
                lang = gr.Dropdown(LANGUAGES, value="auto", label="Answer language", scale=1)
            ask_button = gr.Button("Ask", variant="primary")
            sources = gr.HTML("<p><em>Cited passages appear here.</em></p>")
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
                            history[-1]["content"] = html.escape(item.text)
                            yield history, "", sources_panel(item)
                        else:
                            text += item
                            history[-1]["content"] = html.escape(text)
                            yield history, "", gr.skip()
                except PaperlensError as exc:
                    history[-1]["content"] = f"⚠️ {html.escape(str(exc))}"
                    yield history, "", gr.skip()

            ask_button.click(
                on_ask, [question, chatbot, lang], [chatbot, question, sources], concurrency_limit=2
            )
            question.submit(
                on_ask, [question, chatbot, lang], [chatbot, question, sources], concurrency_limit=2
            )

        with gr.Tab("Search"):
            query = gr.Textbox(label="Query (any language)")
            search_button = gr.Button("Search")
            results = gr.HTML()
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
            similar_out = gr.HTML()

            def on_similar(choice: str, body: str) -> str:
                if body and body.strip():
                    return _guard(lambda: similar_table(similar_to_text(lib, body, 8)))
                return _guard(lambda: similar_table(similar_to_paper(lib, paper_ref(choice), 8)))

            similar_button.click(on_similar, [paper, text], similar_out, concurrency_limit=4)

        with gr.Tab("Summarize"):
            summary_paper = gr.Dropdown(choices=[], allow_custom_value=True, label="Paper")
            summary_lang = gr.Dropdown(LANGUAGES[1:], value="en", label="Language")
            summary_button = gr.Button("Summarize")
            summary_text = gr.Markdown()
            summary_sources = gr.HTML()

            def on_summarize(choice: str, language: str) -> Iterator:
                try:
                    app.wait()
                    text = ""
                    for item in summarize_stream(
                        lib, paper_ref(choice), lang=language, llm=app.llm
                    ):
                        if isinstance(item, Answer):
                            yield html.escape(item.text), sources_panel(item)
                        else:
                            text += item
                            yield html.escape(text), gr.skip()
                except PaperlensError as exc:
                    yield f"⚠️ {html.escape(str(exc))}", ""

            summary_button.click(
                on_summarize,
                [summary_paper, summary_lang],
                [summary_text, summary_sources],
                concurrency_limit=2,
            )

        with gr.Tab("Library"):
            urls = gr.Textbox(label="URLs or arXiv ids (one per line)", lines=3)
            uploads = gr.File(
                file_count="multiple",
                label="Upload PDF / text / Markdown / HTML",
                file_types=list(SUPPORTED),
            )
            fetch_pdfs = gr.Checkbox(value=False, label="Also fetch arXiv PDFs for digest papers")
            add_button = gr.Button("Add to library", variant="primary")
            report = gr.Markdown()
            table = gr.Dataframe(
                headers=["Title", "Languages", "Sources", "Passages", "PDF", "id"],
                interactive=False,
                wrap=True,
            )
            with gr.Row():
                delete_id = gr.Textbox(label="Paper id to delete (last column)", scale=4)
                delete_button = gr.Button("Delete", variant="stop", scale=1)

            def on_add(lines: str, files: list | None, pdfs: bool, progress=PROGRESS):
                try:
                    app.wait()
                    refs = [ln.strip() for ln in (lines or "").splitlines() if ln.strip()]
                    stored, errors = store_uploads(files or [], app.settings)
                    events: list[str] = [f"error: {e}" for e in errors]
                    todo = refs + stored
                    for n, ref in enumerate(todo):
                        progress((n, len(todo)), desc=f"ingesting {Path(ref).name}")
                        lib.ingest([ref], pdfs=pdfs, on_event=events.append)
                    app.status = app._ready_line()
                    lines_md = "\n".join(f"- {html.escape(e)}" for e in events) or "nothing to add"
                    return lines_md, library_rows(lib)
                except PaperlensError as exc:
                    return f"⚠️ {html.escape(str(exc))}", gr.skip()

            add_button.click(
                on_add, [urls, uploads, fetch_pdfs], [report, table], concurrency_limit=1
            )

            def on_delete(paper_id: str):
                ok = lib.store.delete_paper(paper_id.strip())
                app.status = app._ready_line()
                message = "deleted" if ok else f"no paper {html.escape(paper_id)}"
                return message, library_rows(lib)

            delete_button.click(on_delete, delete_id, [report, table], concurrency_limit=1)

        def on_load():
            if not app.ready.is_set():
                return gr.skip(), gr.skip(), gr.skip()
            papers = lib.store.papers()  # one catalog pass for the pickers and the table
            choices = paper_choices(lib, papers)
            return (
                gr.update(choices=choices),
                gr.update(choices=choices),
                library_rows(lib, papers),
            )

        demo.load(on_load, outputs=[paper, summary_paper, table])
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


def main(port: int | None = None, host: str = "127.0.0.1") -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    app = App(settings)
    threading.Thread(target=app.warm_up, daemon=True).start()
    demo = build(app)
    demo.queue(default_concurrency_limit=2)
    demo.launch(
        server_name=host,
        server_port=port or int(os.environ.get("PAPERLENS_PORT", "7860")),
        share=False,
        max_file_size=f"{settings.max_upload_mb:g}mb",
        show_error=False,
    )
