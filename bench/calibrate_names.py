"""How often `ask` abstains, with and without the unknown-names check, in one run.

    PAPERLENS_HOME=<library> .venv/bin/python -m bench.calibrate_names QUESTIONS.jsonl ...

Each question goes through `ask` with no generator (abstention is decided
before generation, so the generator does not change it): once with the
reranker's threshold alone (`abstain_below`), once with the names check too
(`abstain_on_unknown_names`). A question with `expect_none` should be
abstained on; any other should not. Files of queries (`query` instead of
`question`) are read as questions. docs/answers.md#unknown-names has the figures.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from paperlens.assistant.chat import ask
from paperlens.index.library import Library
from paperlens.ingest.config import Settings


def load(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        row.setdefault("question", row.get("query", ""))
    return rows


def abstentions(library: Library, rows: list[dict]) -> dict[bool, tuple[dict[str, bool], list]]:
    """For the check off and on: whether `ask` abstained on each question, and the times
    in ms. Each question is asked once first, untimed, so that both timed runs find the
    same caches warm; which runs first alternates."""
    runs: dict[bool, tuple[dict[str, bool], list]] = {False: ({}, []), True: ({}, [])}
    for n, row in enumerate(rows):
        ask(library, row["question"], llm=None)
        for names in (n % 2 == 0, n % 2 == 1):
            library.settings.abstain_on_unknown_names = names
            start = time.perf_counter()
            runs[names][0][row["id"]] = ask(library, row["question"], llm=None).abstained
            runs[names][1].append(1000 * (time.perf_counter() - start))
    return runs


def report(path: Path, rows: list[dict], base: dict[str, bool], checked: dict[str, bool]) -> None:
    none = [r["id"] for r in rows if r.get("expect_none")]
    some = [r["id"] for r in rows if not r.get("expect_none")]
    print(f"{path.name}: {len(some)} answerable, {len(none)} not")
    for label, result in (("threshold only", base), ("threshold + names", checked)):
        right = sum(result[i] for i in none)
        wrong = sum(result[i] for i in some)
        print(f"  {label:<18} abstained when none {right}/{len(none)}, wrongly {wrong}/{len(some)}")
    for row in rows:
        if base[row["id"]] != checked[row["id"]]:
            print(f"    changed: {row['id']} ({row.get('lang')}) {row['question'][:70]}")


def main(paths: list[str]) -> None:
    library = Library(Settings(), show_progress=False)
    print(f"library: {library.settings.home} ({library.store.stats().get('papers')} papers)")
    for path in map(Path, paths):
        rows = load(path)
        runs = abstentions(library, rows)
        (base, base_ms), (checked, checked_ms) = runs[False], runs[True]
        report(path, rows, base, checked)
        with_names, without = statistics.median(checked_ms), statistics.median(base_ms)
        print(f"  ask, no generator, p50: {with_names:.0f} ms with names, {without:.0f} without")


if __name__ == "__main__":
    main(sys.argv[1:])
