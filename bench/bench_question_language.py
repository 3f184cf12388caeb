"""The language a question is asked in (the answer's language), over every question
of our sets, beside the detector alone in the same run.

    .venv/bin/python -m bench.bench_question_language [--show-misses]

Questions: bench/*.jsonl, samples/*.jsonl and ../shared/eval/*.jsonl (each line with a
`question` or `query` and its `lang`). bench/short_questions.jsonl holds short
questions mixing English terms into other languages ("Quanti layer ha ViT-Large?"),
the kind users type: its "chose the rule" 70 were seen while the function-word rule
was chosen, its "held out" 32 were written after it, before any run on them.
Baseline: lingua alone on the text outside quoted titles (what paperlens did before
the function words decided, docs/answers.md#question-language).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from paperlens.ingest.langid import detected_outside_quotes, language_asked_in

ROOT = Path(__file__).resolve().parent.parent
SETS = ("bench/*.jsonl", "samples/*.jsonl", "../shared/eval/*.jsonl")


def load() -> dict[str, list[tuple[str, str]]]:
    """Questions by group: "short, <set>" for the short questions, "our sets" for the rest."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for pattern in SETS:
        for path in sorted(ROOT.glob(pattern)):
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                question, lang = row.get("question") or row.get("query"), row.get("lang")
                if question and lang:
                    group = f"short, {row['set']}" if "set" in row else "our sets"
                    groups.setdefault(group, []).append((lang, question))
    return groups


def report(name: str, rows: list[tuple[str, str]], judge: Callable[[str], str | None]) -> None:
    right = sum(judge(question) == lang for lang, question in rows)
    english = [(lang, q) for lang, q in rows if lang == "en"]
    english_right = sum(judge(q) == lang for lang, q in english)
    print(f"  {name:<16} {right}/{len(rows)}   English {english_right}/{len(english)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    for group, rows in sorted(load().items()):
        print(f"{group} ({len(rows)} questions)")
        report("detector alone", rows, detected_outside_quotes)
        report("paperlens", rows, language_asked_in)
        if args.show_misses:
            for lang, question in rows:
                found = language_asked_in(question)
                if found != lang:
                    print(f"    miss: {lang} read as {found}: {question[:90]}")


if __name__ == "__main__":
    main()
