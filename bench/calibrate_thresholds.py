"""Where the answer thresholds come from: reranker scores on real questions and passages.

    PAPERLENS_HOME=/tmp/seeds .venv/bin/python -m bench.calibrate_thresholds \
        ../shared/eval/dev_questions.jsonl

Abstention (`abstain_below`): the reranker's best passage score for each
question, answerable vs `expect_none`; a threshold belongs between the two.
Support (`support_threshold`): cosine of a sentence with a passage of the same
paper in another language (what a cited answer in the user's language looks
like) vs with passages of other papers; a threshold belongs between the two.
"""

from __future__ import annotations

import random
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from paperlens.assistant.answer_eval import load_questions
from paperlens.index.library import Library
from paperlens.ingest.config import Settings


def abstention(library: Library, path: Path) -> None:
    answerable, unanswerable = [], []
    for question in load_questions(path):
        hits = library.searcher.search_passages(question.question, k=1)
        best = hits[0].score if hits else 0.0
        (unanswerable if question.expect_none else answerable).append(best)
    print(f"best reranker score per question ({path.name}):")
    print(
        f"  answerable   n={len(answerable):>3}  min {min(answerable):.3f}  "
        f"p10 {np.percentile(answerable, 10):.3f}  median {np.median(answerable):.3f}"
    )
    if unanswerable:
        print(
            f"  unanswerable n={len(unanswerable):>3}  max {max(unanswerable):.3f}  "
            f"values {', '.join(f'{s:.3f}' for s in sorted(unanswerable))}"
        )


def support(library: Library, pairs: int = 300, seed: int = 0) -> None:
    searcher, store = library.searcher, library.store
    by_paper: dict[str, list] = defaultdict(list)
    for passage in store.passages(pid for pid, _, _ in store.iter_passage_texts()).values():
        by_paper[passage.paper_id].append(passage)
    rng = random.Random(seed)
    multilingual = [p for p in by_paper.values() if len({x.lang for x in p}) > 1]
    same, other = [], []
    for _ in range(pairs):
        passages = rng.choice(multilingual)
        a = rng.choice(passages)
        b = rng.choice([x for x in passages if x.lang != a.lang])
        foreign = rng.choice([x for p in by_paper.values() if p is not passages for x in p])
        sentence = first_sentence(a.text)
        scores = library.reranker.similarity(
            [sentence], searcher.candidates_for([b.id, foreign.id])
        )
        same.append(float(scores[0, 0]))
        other.append(float(scores[0, 1]))
    print(
        f"sentence vs passage, {pairs} random pairs from {len(multilingual)} multilingual papers:"
    )
    print(
        f"  same paper, other language   p10 {np.percentile(same, 10):.3f}  "
        f"median {np.median(same):.3f}"
    )
    print(
        f"  another paper                p90 {np.percentile(other, 90):.3f}  "
        f"median {np.median(other):.3f}"
    )


def first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?。！？।])\s*", text.strip(), maxsplit=1)[0][:300]


def main() -> None:
    library = Library(Settings(), show_progress=False)
    if library.reranker is None:
        raise SystemExit("no reranker configured: these thresholds are the reranker's")
    print(f"library {library.settings.home}, reranker {library.reranker.name}")
    for arg in sys.argv[1:]:
        abstention(library, Path(arg))
    support(library)


if __name__ == "__main__":
    main()
