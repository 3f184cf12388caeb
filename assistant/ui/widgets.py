"""Components several tabs share: HTML panels whose passages click, and the
passage-in-context view they open; the page's script and style."""

from __future__ import annotations

import io

import gradio as gr
from PIL import Image

from paperlens.assistant.evidence import passage_context
from paperlens.assistant.ui.render import evidence_html, warning_line
from paperlens.assistant.ui.state import App
from paperlens.ingest.errors import PaperlensError

PROGRESS = gr.Progress()  # Gradio injects a tracker where a handler's default is one
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
/* A passage keeps its lines: a PDF table's rows (tab-separated cells), headings. */
.pl-evidence blockquote { white-space: pre-wrap; tab-size: 4; }
"""


def clickable_html(value: str = "", elem_id: str | None = None) -> gr.HTML:
    """An HTML panel whose `data-passage` elements fire its click event."""
    return gr.HTML(value, elem_id=elem_id, js_on_load=PASSAGE_CLICKS)


def evidence_view(app: App, key: str):
    """A passage-in-context area: its text (or digest entry) and its PDF page image,
    with the handler that fills them from a click event carrying a passage id."""
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
            return f"<p>{warning_line(str(exc))}</p>", gr.update(visible=False, value=None)
        page = Image.open(io.BytesIO(evidence.image)) if evidence.image else None
        return evidence_html(evidence, app.pdf_link(evidence)), gr.update(
            visible=page is not None, value=page
        )

    return text, image, show


def clickable_panel(app: App, key: str, value: str = "", elem_id: str | None = None) -> gr.HTML:
    """A clickable HTML panel with its passage-in-context view below it."""
    panel = clickable_html(value, elem_id)
    text, image, show = evidence_view(app, key)
    panel.click(show, None, [text, image])
    return panel
