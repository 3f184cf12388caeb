"""The Gradio app: Ask, Search, Similar papers, Summarize, Library, Settings.

Thin by design: every handler calls the same functions as the CLI and only
renders. The tabs live in assistant/ui/ (one module each), their HTML in
assistant/ui/render.py; this module lays the page out and launches it.

Clicking a cited passage (in a sources panel or a search table) shows it in
context (assistant/evidence.py): its PDF page with the passage highlighted,
or its digest entry. Pickers and tables follow the catalog's generation, so
an ingest or delete anywhere (another tab, the CLI) shows up without a reload.
"""

from __future__ import annotations

import logging
import os
import threading

import gradio as gr

from paperlens.assistant import mcp_http
from paperlens.assistant.access import AccessPolicy
from paperlens.assistant.api import Paperlens
from paperlens.assistant.markup import markdown_literal
from paperlens.assistant.ui.ask import ask_tab
from paperlens.assistant.ui.library import library_tab
from paperlens.assistant.ui.live import follow_catalog, lock_for_readers
from paperlens.assistant.ui.search import search_tab
from paperlens.assistant.ui.settings import settings_tab
from paperlens.assistant.ui.similar import similar_tab
from paperlens.assistant.ui.state import App
from paperlens.assistant.ui.summarize import summarize_tab
from paperlens.assistant.ui.widgets import CITE_CLICKS, CSS
from paperlens.assistant.webauth import auth_launch_options, check_exposure
from paperlens.ingest.config import Settings
from paperlens.ingest.languages import ANSWER_LANGUAGES

log = logging.getLogger("paperlens.app")


def build(app: App) -> gr.Blocks:
    """The page: a status line, one tab each, and what keeps them current."""
    with gr.Blocks(title="paperlens") as demo:
        gr.Markdown(
            "# paperlens\nSearch and ask across ML paper digests and papers, in any language."
        )
        status = gr.Markdown(markdown_literal(app.status))
        who = gr.Markdown("")
        with gr.Tab("Ask"):
            ask_tab(app, ["auto", *ANSWER_LANGUAGES])
        with gr.Tab("Search"):
            search_tab(app)
        with gr.Tab("Similar papers"):
            similar_picker = similar_tab(app)
        with gr.Tab("Summarize"):
            summary_picker = summarize_tab(app, ANSWER_LANGUAGES)
        with gr.Tab("Library"):
            library = library_tab(app, ANSWER_LANGUAGES)
        with gr.Tab("Settings"):
            settings = settings_tab(app)
        follow_catalog(demo, app, status, [similar_picker, summary_picker], library, settings)
        lock_for_readers(demo, app, who, [*library.controls, settings.generator])
    return demo


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
