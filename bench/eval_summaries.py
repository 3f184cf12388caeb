"""Does `paperlens summarize PAPER --lang L` come out in L, cited and supported?

    PAPERLENS_HOME=/tmp/seeds .venv/bin/python -m bench.eval_summaries 1706.03762
    PAPERLENS_HOME=/tmp/samples .venv/bin/python -m bench.eval_summaries \
        1706.03762 --langs hi ja ko fr zh

For each language: the mode (`llm`: the model's summary passed the checks;
`extractive`: cited passages under a notice), whether the text is in the
language (the answer eval's test: detected language and no stray script),
sentences kept / supported, citations, time, and the reason when it fell back.
A summary "comes out in the language" when its mode is llm and its language
test passes.
"""

from __future__ import annotations

import argparse
import time

from paperlens.assistant.checks.language import language_problem
from paperlens.assistant.llm import get_llm
from paperlens.assistant.similar import resolve_paper
from paperlens.assistant.summarize import summarize_stream
from paperlens.index.library import Library
from paperlens.ingest.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paper")
    parser.add_argument("--langs", nargs="+", default=["hi", "ja", "ko", "fr", "zh"])
    args = parser.parse_args()
    settings = Settings()
    library = Library(settings, show_progress=False)
    llm = get_llm(settings)
    print(f"paper {args.paper}, library {settings.home}, generator {llm.name if llm else None}")
    paper = resolve_paper(library, args.paper)
    sources = [p.text for p in library.store.paper_passages(paper.id)]  # may lend phrases
    passed = 0
    for lang in args.langs:
        started = time.perf_counter()
        final = list(summarize_stream(library, args.paper, lang=lang, llm=llm))[-1]
        seconds = time.perf_counter() - started
        problem = "fell back"
        if final.mode == "llm":
            problem = language_problem(final.text, lang, "", sources)
        passed += problem is None
        print(
            f"{lang}  {final.mode:<10} in {lang}: {'yes' if problem is None else 'no '}  "
            f"sentences {final.supported}/{final.sentences}  citations {len(final.citations)}  "
            f"{seconds:5.1f} s  {'; '.join(final.warnings)}"
        )
        print("    " + final.text[:300].replace("\n", " | "))
    print(f"\nin their language: {passed} of {len(args.langs)}")


if __name__ == "__main__":
    main()
