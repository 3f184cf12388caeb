"""Citations on the right page: questions over real PDFs, each with the pages that answer it.

Usage: python -m bench.bench_pdf_pages --library /tmp/pdflib
       [--pdfs ../shared/corpus/real/pdfs] [--questions FILE ...]
       [--ask] [--ask-llm] [--english] [--translate] [--variants today,focus3]

The library is ingested once (the PDFs, with reranker vectors: minutes of
CPU) and reused by later runs. For each search variant, in one run:
- paper@1: the top hit is the paper the question is about;
- page@1: and its passage (the one shown and cited) is on a right page;
- page@3: a right page is among the pages of that paper's 3 best passages;
per language and per question file (default: every file, 477 questions,
each written before any run on it, see QUESTION_SETS), with the p50 search
latency. `today` is search as it was
before the focus stage (index/focus.py); the other variants turn it on.
With --english the first and last variants also run on each question's
English rendering (`question_en`), which isolates the effect of the query's
language (the passages are English); --translate runs the last variant on
each question as the configured generator translates it to English (what
query translation before search would give, one generation per question).
With --ask it also answers each
question retrieval-only (`ask --generator none`: the same ask_stream, no
model) and counts how often the cited passages include a right page of the
right paper; --ask-llm does the same with the configured generator (one
generated answer per question: minutes) and prints each answer's citations.
The CPU may be shared with other work: read times as rough.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from paperlens.index.focus import FocusSettings
from paperlens.index.library import Library
from paperlens.index.search import Searcher
from paperlens.ingest.config import Settings

ROOT = Path(__file__).resolve().parents[1]
# The first 37 questions guided the levers of docs/retrieval-pages.md; every later file
# was written before any run on it: held-out checks of the levers chosen before it
# (docs/retrieval-pages.md, one section per set, the newest #figure-text).
QUESTION_SETS = (
    "pdf_page_questions",
    "pdf_page_questions_more",
    "pdf_page_questions_third",
    "pdf_page_questions_fourth",
    "pdf_page_questions_fifth",
    "pdf_page_questions_sixth",
    "pdf_page_questions_seventh",
    "pdf_page_questions_eighth",
    "pdf_page_questions_ninth",
    "pdf_page_questions_tenth",
    "pdf_page_questions_eleventh",
    "pdf_page_questions_twelfth",
    "pdf_page_questions_thirteenth",
    "pdf_page_questions_fourteenth",
    "pdf_page_questions_fifteenth",
    "pdf_page_questions_sixteenth",
    "pdf_page_questions_seventeenth",
    "pdf_page_questions_eighteenth",
    "pdf_page_questions_nineteenth",
    "pdf_page_questions_twentieth",
)
DEFAULT = FocusSettings(
    papers=3, neighbour_weight=0.15, own_terms_weight=0.5, table_row_names=True, table_offset=0.025
)
VARIANTS = {
    "today": FocusSettings(),
    "focus1": FocusSettings(papers=1),
    "focus3": FocusSettings(papers=3),
    "focus3+nb.25": FocusSettings(papers=3, neighbour_weight=0.25),
    # The default before #spread: the shortened question's scores as they come.
    "focus3+nb.25+own.5": FocusSettings(
        papers=3, neighbour_weight=0.25, own_terms_weight=0.5, rescale_own_terms=False
    ),
    "focus3+nb.25+own.5s": FocusSettings(papers=3, neighbour_weight=0.25, own_terms_weight=0.5),
    "focus3+nb.15+own.5s": FocusSettings(papers=3, neighbour_weight=0.15, own_terms_weight=0.5),
    "focus3+nb.15": FocusSettings(papers=3, neighbour_weight=0.15),
    "focus3+nb.5": FocusSettings(papers=3, neighbour_weight=0.5),
    "focus3+bm.05": FocusSettings(papers=3, lexical_weight=0.05),
    "focus3+bm.1": FocusSettings(papers=3, lexical_weight=0.1),
    "focus3+nb.25+bm.05": FocusSettings(papers=3, neighbour_weight=0.25, lexical_weight=0.05),
    # The default since #row-names: tables read by their row names, 0.025 added.
    "default": DEFAULT,
    **{
        f"default+names{offset:+.3f}": replace(DEFAULT, table_offset=offset)
        for offset in (0.0, 0.01, 0.02, 0.03, 0.04)
    },
    "focus3+nb.15+own.5s+tables+0.025": replace(DEFAULT, table_row_names=False),
}


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def ensure_ingested(library: Library, pdfs: Path) -> None:
    """Ingest the PDFs once; a library that already holds PDFs is reused as is."""
    if any(p.has_pdf for p in library.store.papers()):
        return
    print(f"ingesting {pdfs} into {library.settings.home} (once; minutes of CPU)")
    report = library.ingest([str(p) for p in sorted(pdfs.glob("*.pdf"))], pdfs=False)
    for outcome in report.outcomes:
        print(" ", outcome.status, outcome.ref, outcome.error or "")


def searcher_for(library: Library, settings: FocusSettings) -> Searcher:
    base = library.searcher
    return Searcher(
        base.store,
        base.embedder,
        bm25_weight=library.settings.bm25_weight,
        reranker=base.reranker,
        rerank_candidates=base.rerank_candidates,
        focus_settings=settings,
    )


def judge(searcher: Searcher, question: dict) -> tuple[bool, bool, bool, float]:
    """(paper@1, page@1, page@3, seconds) for one question.

    One passage-level search: with the reranker, its first passage is the top
    hit of `search` (papers are ranked by their best passage) and that hit's
    passage; the paper's next passages follow in order.
    """
    start = time.perf_counter()
    passages = searcher.search_passages(question["question"], k=60)
    seconds = time.perf_counter() - start
    if not passages or passages[0].arxiv_id != question["arxiv_id"]:
        return False, False, False, seconds
    pages = set(question["pages"])
    own = [h.page for h in passages if h.paper_id == passages[0].paper_id][:3]
    return True, passages[0].page in pages, bool(pages & set(own)), seconds


def run_variant(searcher: Searcher, questions: list[dict]) -> dict:
    rows = []
    for q in questions:
        paper, page1, page3, seconds = judge(searcher, q)
        rows.append(
            dict(
                id=q["id"],
                lang=q["lang"],
                set=q.get("set"),
                paper=paper,
                page1=page1,
                page3=page3,
                seconds=seconds,
            )
        )
    return dict(rows=rows)


def share(rows: list[dict], key: str) -> str:
    return f"{sum(r[key] for r in rows)}/{len(rows)}"


def ask_pages(
    library: Library, searcher: Searcher, questions: list[dict], llm=None
) -> tuple[int, int]:
    """How often an answer cites a right page of the right paper (retrieval-only
    when `llm` is None: the passages `ask` would hand a generator)."""
    from paperlens.assistant.chat import ask_stream
    from paperlens.assistant.rag import Answer

    library.__dict__["searcher"] = searcher
    good = 0
    for q in questions:
        answer = next(
            item for item in ask_stream(library, q["question"], llm=llm) if isinstance(item, Answer)
        )
        right = any(c.arxiv_id == q["arxiv_id"] and c.page in q["pages"] for c in answer.citations)
        good += right
        if llm is not None:
            cited = ", ".join(f"{c.arxiv_id} p{c.page}" for c in answer.citations)
            verdict = "right" if right else "wrong"
            print(f"  {q['id']:<6} {verdict} page cited ({answer.mode}): {cited}")
    return good, len(questions)


TRANSLATE = (
    "Translate this question about a machine-learning paper into English. Keep names, "
    "symbols and numbers as they are. Reply with the English question only.\n\n"
)


def translated(questions: list[dict], llm) -> list[dict]:
    """Each question as `llm` renders it in English (English ones as they are)."""
    out = []
    for q in questions:
        text = q["question"]
        if q["lang"] != "en":
            messages = [{"role": "user", "content": TRANSLATE + text}]
            text = "".join(llm.stream_chat(messages, max_tokens=80, temperature=0.0)).strip()
            print(f"  {q['id']:<6} {text}")
        out.append(dict(q, question=text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", type=Path, required=True)
    parser.add_argument(
        "--pdfs", type=Path, default=ROOT.parent / "shared" / "corpus" / "real" / "pdfs"
    )
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[ROOT / "bench" / f"{name}.jsonl" for name in QUESTION_SETS],
    )
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--ask", action="store_true", help="also count pages cited by ask")
    parser.add_argument("--english", action="store_true", help="also ask in English")
    parser.add_argument(
        "--translate",
        action="store_true",
        help="also ask each question as the configured generator translates it to English",
    )
    parser.add_argument(
        "--ask-llm",
        action="store_true",
        help="also answer with the configured generator (slow: one answer per question)",
    )
    args = parser.parse_args()
    library = Library(Settings(home=args.library), show_progress=True)
    ensure_ingested(library, args.pdfs)
    questions = [dict(q, set=path.stem) for path in args.questions for q in load_questions(path)]
    held = {p.arxiv_id for p in library.store.papers() if p.has_pdf}
    absent = sorted({q["arxiv_id"] for q in questions} - held)
    if absent:  # a library being built: measure what it holds, and say so
        print(f"not in the library, their questions left out: {', '.join(absent)}")
        questions = [q for q in questions if q["arxiv_id"] in held]
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    # The runs on English and translated questions are added to `names` below;
    # misses, `ask` and the translation are read for the last variant asked for.
    first, last = names[0], names[-1]
    langs = sorted({q["lang"] for q in questions})
    print(
        f"{len(questions)} questions in {len(langs)} languages; mode "
        f"{library.searcher.default_mode}; library {args.library}"
    )
    searcher_for(library, VARIANTS[names[0]]).search("warm up", k=1)  # load models first
    results = {}
    for name in names:
        results[name] = run_variant(searcher_for(library, VARIANTS[name]), questions)
    if args.english:
        english = [dict(q, question=q["question_en"]) for q in questions]
        for name in dict.fromkeys([first, last]):
            results[f"{name}(en)"] = run_variant(searcher_for(library, VARIANTS[name]), english)
            names.append(f"{name}(en)")
    if args.translate:
        from paperlens.assistant.llm import get_llm

        llm = get_llm(library.settings)
        if llm is None:
            parser.error("--translate needs a generator (make install, or OPENAI_BASE_URL)")
        start = time.perf_counter()
        machine = translated(questions, llm)
        print(f"translated in {time.perf_counter() - start:.0f} s by {llm.name}")
        results[f"{last}(mt)"] = run_variant(searcher_for(library, VARIANTS[last]), machine)
        names.append(f"{last}(mt)")
    print(f"\n{'variant':<14} {'paper@1':>8} {'page@1':>8} {'page@3':>8} {'p50 ms':>7}")
    for name in names:
        rows = results[name]["rows"]
        p50 = statistics.median(r["seconds"] for r in rows) * 1000
        print(
            f"{name:<14} {share(rows, 'paper'):>8} {share(rows, 'page1'):>8} "
            f"{share(rows, 'page3'):>8} {p50:>7.0f}"
        )
    sets = list(dict.fromkeys(q["set"] for q in questions))
    if len(sets) > 1:
        print("\npage@1 per question set: " + "  ".join(sets))
        for name in names:
            rows = results[name]["rows"]
            cells = "  ".join(
                f"{share([r for r in rows if r['set'] == s], 'page1'):>{len(s)}}" for s in sets
            )
            print(f"{name:<24} {cells}")
    print("\npage@1 per language: " + " ".join(f"{lang:>5}" for lang in langs))
    for name in names:
        by_lang = defaultdict(list)
        for r in results[name]["rows"]:
            by_lang[r["lang"]].append(r)
        cells = " ".join(f"{share(by_lang[lang], 'page1'):>5}" for lang in langs)
        print(f"{name:<20} {cells}")
    misses = [r["id"] for r in results[last]["rows"] if not r["page1"]]
    print(f"\npage@1 misses of {last}: {', '.join(misses) or 'none'}")
    if args.ask:
        for name in dict.fromkeys([first, last]):
            good, total = ask_pages(library, searcher_for(library, VARIANTS[name]), questions)
            print(f"ask (retrieval-only) cites a right page, {name}: {good}/{total}")
    if args.ask_llm:
        from paperlens.assistant.llm import get_llm

        llm = get_llm(library.settings)
        if llm is None:
            print("ask with a generator: none available (make install, or OPENAI_BASE_URL)")
            return
        good, total = ask_pages(library, searcher_for(library, VARIANTS[last]), questions, llm)
        print(f"ask (generator {llm.name}) cites a right page, {last}: {good}/{total}")


if __name__ == "__main__":
    main()
