"""The Search tab: a query in any language -> papers with their best passage."""

from __future__ import annotations

import gradio as gr

from paperlens.assistant.ui.render import guarded, hits_table
from paperlens.assistant.ui.state import App
from paperlens.assistant.ui.widgets import clickable_panel
from paperlens.index.limits import check_query


def search_tab(app: App) -> None:
    """The tab's components and events (inside a `gr.Tab`)."""
    query = gr.Textbox(label="Query (any language)")
    search_button = gr.Button("Search")
    results = clickable_panel(app, "search")
    # A lambda on purpose: Gradio names the API route after the function (`/lambda`),
    # and API clients call it by that name.
    search_button.click(
        lambda q: guarded(
            lambda: hits_table(app.library.searcher.search(check_query(q, app.settings), k=10))
        ),
        query,
        results,
        concurrency_limit=4,
    )
