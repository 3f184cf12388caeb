"""The Gradio app's parts: shared state (`state`), rendering (`render`), shared widgets,
one module per tab (`ask`, `search`, `similar`, `summarize`, `library`, `settings`),
and what keeps an open page current (`live`). `assistant/webapp.py` assembles them."""
