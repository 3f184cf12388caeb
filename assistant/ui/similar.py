"""The Similar papers tab: papers like a chosen paper, or like a pasted text."""

from __future__ import annotations

import gradio as gr

from paperlens.assistant.similar import similar_to_paper, similar_to_text
from paperlens.assistant.ui.pickers import paper_ref
from paperlens.assistant.ui.render import guarded, similar_table
from paperlens.assistant.ui.state import App
from paperlens.assistant.ui.widgets import clickable_panel
from paperlens.index.limits import check_query


def similar_tab(app: App) -> gr.Dropdown:
    """The tab's components and events (inside a `gr.Tab`); returns its paper picker,
    which follows the library."""
    paper = gr.Dropdown(choices=[], allow_custom_value=True, label="Paper (title or arXiv id)")
    text = gr.Textbox(label="…or papers like this text", lines=3)
    similar_button = gr.Button("Find similar papers")
    similar_out = clickable_panel(app, "similar", "", "similar-out")

    def on_similar(choice: str, body: str) -> str:
        lib = app.library
        if body and body.strip():
            return guarded(
                lambda: similar_table(
                    similar_to_text(lib, check_query(body, app.settings, "text"), 8)
                )
            )
        return guarded(lambda: similar_table(similar_to_paper(lib, paper_ref(choice), 8)))

    similar_button.click(on_similar, [paper, text], similar_out, concurrency_limit=4)
    return paper
