"""The Settings tab: what the app runs on (generators, models, index statistics), and
the generator for new questions, which librarians may switch."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

import gradio as gr

from paperlens.assistant.llm import generator_health
from paperlens.assistant.ui.render import error_line
from paperlens.assistant.ui.state import App

log = logging.getLogger("paperlens.app")


@dataclass(frozen=True)
class SettingsTab:
    """What the rest of the page updates: the description follows the catalog, the
    generator choices follow discovery (and are locked for readers)."""

    info: gr.Markdown
    generator: gr.Radio


def settings_tab(app: App) -> SettingsTab:
    """The tab's components and events (inside a `gr.Tab`)."""
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
    return SettingsTab(settings_info, generator)


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
