"""paperlens: multilingual semantic search and cited answers over ML papers.

One import name for the whole product: `paperlens.ingest` (reading sources),
`paperlens.index` (the library: catalog, vectors, search) and
`paperlens.assistant` (answers, the app, the CLI). An installed wheel holds them
inside this package (pyproject.toml maps them there); in a source checkout they
stay in the repository's top-level folders `ingest/`, `index/` and `assistant/`,
and the line below lets this package find them there, so a checkout on
PYTHONPATH imports its own code (the benchmarks compare two checkouts that way).
See docs/architecture.md.
"""

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "index" / "__init__.py").is_file() and (_CHECKOUT / "pyproject.toml").is_file():
    __path__.append(str(_CHECKOUT))
