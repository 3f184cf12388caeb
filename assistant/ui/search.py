"""The Search tab: a query in any language -> papers with their best passage."""

from __future__ import annotations

import gradio as gr

from paperlens.assistant.relevance import names_not_found
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
        lambda q: guarded(lambda: search_results(app, q)),
        query,
        results,
        concurrency_limit=4,
    )


def search_results(app: App, query: str) -> str:
    """The ten best papers for `query`, and the names of it none of them mentions."""
    hits = app.library.searcher.search(check_query(query, app.settings), k=10)
    return hits_table(hits, names_not_found(app.library, query, hits))
