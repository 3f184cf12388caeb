"""The Summarize tab: a paper and a language -> a cited, checked summary, streamed
through the generator's queue."""

from __future__ import annotations

import html
from collections.abc import Iterator

import gradio as gr

from paperlens.assistant.answers import Answer, SummaryProgress
from paperlens.assistant.summarize import summarize_stream
from paperlens.assistant.ui.pickers import paper_ref
from paperlens.assistant.ui.render import cite_links, error_html, sources_panel
from paperlens.assistant.ui.state import LLM_EVENTS, App, generator_turn, waiting_line
from paperlens.assistant.ui.widgets import clickable_panel
from paperlens.index.limits import check_query


def summarize_tab(app: App, languages: list[str]) -> gr.Dropdown:
    """The tab's components and events (inside a `gr.Tab`); returns its paper picker,
    which follows the library."""
    summary_paper = gr.Dropdown(choices=[], allow_custom_value=True, label="Paper")
    summary_lang = gr.Dropdown(languages, value="en", label="Language")
    with gr.Row():
        summary_button = gr.Button("Summarize", variant="primary", scale=4)
        summary_stop = gr.Button("Stop", variant="stop", scale=1)
    summary_text = gr.HTML()
    summary_sources = clickable_panel(app, "summary", "", "summary-sources-box")

    def on_summarize(choice: str, language: str, request: gr.Request) -> Iterator:
        try:
            check_query(choice, app.settings, "paper")
            app.wait()
            with generator_turn(app, request) as turn:
                for ahead in turn.wait():
                    yield f"<p><em>{html.escape(waiting_line(ahead))}</em></p>", gr.skip()
                text = ""
                for item in summarize_stream(
                    app.library, paper_ref(choice), lang=language, llm=app.llm
                ):
                    turn.check()
                    if isinstance(item, Answer):
                        yield (
                            f"<p>{cite_links(item.text, 'summary-sources')}</p>",
                            sources_panel(item, "summary-sources"),
                        )
                    elif isinstance(item, SummaryProgress):
                        yield f"<p><em>{html.escape(item.describe())}</em></p>", gr.skip()
                    else:
                        text += item
                        yield f"<p>{html.escape(text)}</p>", gr.skip()
        except Exception as exc:  # error_html re-raises what is not the user's
            yield error_html(exc), ""

    summarized = summary_button.click(
        on_summarize, [summary_paper, summary_lang], [summary_text, summary_sources], **LLM_EVENTS
    )
    summary_stop.click(None, cancels=[summarized])
    return summary_paper
