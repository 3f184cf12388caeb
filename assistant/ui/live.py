"""What keeps an open page current without a reload: the status line, the pickers and
tables (when the catalog's generation moves: an ingest or delete anywhere, even a CLI in
another process), the generator choices; and the controls readers see locked."""

from __future__ import annotations

import gradio as gr

from paperlens.assistant.access import LIBRARIAN
from paperlens.assistant.markup import markdown_literal
from paperlens.assistant.ui.library import LibraryTab, library_rows, source_rows
from paperlens.assistant.ui.pickers import paper_choices
from paperlens.assistant.ui.settings import SettingsTab, settings_markdown
from paperlens.assistant.ui.state import App


def follow_catalog(
    demo: gr.Blocks,
    app: App,
    status: gr.Markdown,
    pickers: list[gr.Dropdown],
    library: LibraryTab,
    settings: SettingsTab,
) -> None:
    """Every 2 s (and on load): the status line; the rest only when it changed."""
    seen = gr.State(-1)  # the catalog generation this page last showed
    # The generator choices this page shows (a background build may add one).
    shown_generators = gr.State(tuple((o.label, o.key) for o in app.generators))
    catalog_outputs = [*pickers, library.table, library.source_table, settings.info]

    def on_tick(generation: int, text: str, language: str, shown: tuple):
        """Status every tick; pickers and tables only when the catalog changed; the
        generator choices when the ones offered changed."""
        offered = tuple((o.label, o.key) for o in app.generators)
        radio = gr.skip()
        if offered != shown:
            radio, shown = gr.update(choices=list(offered), value=app.generator_key), offered
        store = app.library.store
        if not app.ready.is_set() or store.generation == generation:
            line = markdown_literal(app.status)
            return (line, generation, shown, radio, *[gr.skip()] * len(catalog_outputs))
        current = store.generation
        papers = store.papers()  # one catalog pass for the pickers and the table
        choices = paper_choices(app.library, papers)
        return (
            markdown_literal(app.status),
            current,
            shown,
            radio,
            *[gr.update(choices=choices) for _ in pickers],
            library_rows(app.library, papers, text, language),
            source_rows(app.library),
            settings_markdown(app),
        )

    tick_io = (
        [seen, library.filter_text, library.filter_lang, shown_generators],
        [status, seen, shown_generators, settings.generator, *catalog_outputs],
    )
    gr.Timer(2.0).tick(
        on_tick, *tick_io, show_progress="hidden", concurrency_limit=None, queue=False
    )
    demo.load(on_tick, *tick_io, show_progress="hidden", queue=False)


def lock_for_readers(
    demo: gr.Blocks, app: App, who: gr.Markdown, controls: list[gr.components.Component]
) -> None:
    """Name who is signed in; readers see the librarian's controls disabled. A
    convenience only: every handler behind them checks the role on the server."""

    def on_roles(request: gr.Request):
        role = app.access.role_of(getattr(request, "username", None))
        name = getattr(request, "username", None)
        line = f"signed in as **{markdown_literal(name)}** ({role})" if name else ""
        editable = role == LIBRARIAN
        return (line, *[gr.update(interactive=editable) for _ in controls])

    demo.load(on_roles, None, [who, *controls], queue=False)
