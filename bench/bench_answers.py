"""Answer benchmark: the dev queries asked as questions, local model vs retrieval-only.

    PAPERLENS_HOME=/tmp/seeds .venv/bin/python -m bench.bench_answers [queries.jsonl]

For each mode: fraction of answers whose markers are all valid (none removed,
at least one citation), fraction written in the requested language (detected
with lingua), median time to first token and to the full answer.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from paperlens.assistant.answers import Answer
from paperlens.assistant.chat import ask_stream
from paperlens.assistant.llm import get_llm
from paperlens.index.evaluate import load_queries
from paperlens.index.library import Library
from paperlens.ingest.config import Settings
from paperlens.ingest.langid import detect_language


def run(library: Library, queries, llm, label: str) -> None:
    first_tokens, totals, valid, in_language, added = [], [], 0, 0, 0
    for query in queries:
        start = time.perf_counter()
        first = None
        final = None
        for item in ask_stream(library, query.query, llm=llm):
            if first is None:
                first = time.perf_counter() - start
            if isinstance(item, Answer):
                final = item
        totals.append(time.perf_counter() - start)
        first_tokens.append(first or totals[-1])
        valid += final.removed_markers == 0 and bool(final.citations)
        lang = detect_language(final.text)
        in_language += lang == query.lang
        added += final.mode == "llm"
    n = len(queries)
    print(
        f"  {label:<34} valid markers {valid / n:6.1%}   in asked language {in_language / n:6.1%}"
        f"   first token p50 {statistics.median(first_tokens):5.2f} s"
        f"   total p50 {statistics.median(totals):5.2f} s"
    )


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/dev_queries.jsonl")
    queries = load_queries(path)
    settings = Settings()
    library = Library(settings, show_progress=False)
    stats = library.store.stats()
    print(
        f"{len(queries)} questions from {path}; library {settings.home}: "
        f"{stats['papers']} papers, {stats['passages']} passages"
    )
    llm = get_llm(settings)
    if llm is None:
        print("  (no generator available: install the local-llm extra or set OPENAI_BASE_URL)")
    else:
        run(library, queries, llm, f"generator: {llm.name}")
    run(library, queries, None, "retrieval only (extractive)")


if __name__ == "__main__":
    main()
