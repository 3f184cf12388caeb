"""Retrieval evaluation: recall@1, recall@5 and MRR, overall and per query language.

A query's expected paper is named by `expect_arxiv` and/or `expect_title`;
a hit matches when its arXiv id matches, or when its title (in any language
the catalog knows) normalizes to the expected title.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from paperlens.index.records import PaperRecord
from paperlens.index.search import MODES, Mode, Searcher
from paperlens.ingest.documents import normalize_title
from paperlens.ingest.errors import PaperlensError

T = TypeVar("T")
CUTOFF = 10  # MRR is computed over the top 10


@dataclass(frozen=True)
class EvalQuery:
    id: str
    query: str
    lang: str
    expect_arxiv: str | None
    expect_title: str | None


@dataclass
class Scores:
    ranks: list[int | None] = field(default_factory=list)  # 1-based rank of the expected paper
    seconds: list[float] = field(default_factory=list)  # search latency per query
    # Top hit is a wrong paper in the query's own language: same-language bias.
    same_language_misses: int = 0

    def add(self, rank: int | None, seconds: float = 0.0, same_language_miss: bool = False) -> None:
        self.ranks.append(rank)
        self.seconds.append(seconds)
        self.same_language_misses += same_language_miss

    def recall(self, k: int) -> float:
        return _mean([1.0 if r is not None and r <= k else 0.0 for r in self.ranks])

    @property
    def mrr(self) -> float:
        return _mean([1.0 / r if r is not None else 0.0 for r in self.ranks])

    def to_json(self) -> dict:
        return {
            "n": len(self.ranks),
            "recall@1": round(self.recall(1), 4),
            "recall@5": round(self.recall(5), 4),
            "mrr": round(self.mrr, 4),
            "same_language_top_miss": self.same_language_misses,
            "p50_ms": round(_percentile(self.seconds, 50) * 1000, 1),
            "p95_ms": round(_percentile(self.seconds, 95) * 1000, 1),
        }


def read_jsonl(path: Path, build: Callable[[int, dict], T], what: str) -> list[T]:
    """One `build(line number, row)` per non-empty JSONL line; a bad line is a one-line error."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PaperlensError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            items.append(build(number, json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise PaperlensError(f"{path}:{number}: not a {what} line ({exc})") from exc
    return items


def load_queries(path: Path) -> list[EvalQuery]:
    """Read a JSONL file of {id, query, lang?, expect_arxiv?, expect_title?} lines."""

    def build(number: int, row: dict) -> EvalQuery:
        return EvalQuery(
            id=str(row.get("id", number)),
            query=row["query"],
            lang=row.get("lang") or "?",
            expect_arxiv=row.get("expect_arxiv"),
            expect_title=row.get("expect_title"),
        )

    return read_jsonl(path, build, "query")


def _forget_recent_vectors(searcher: Searcher) -> None:
    """Models that remember recent vectors (a shared EmbeddingGemma) would otherwise
    time the reranking stage with the query already encoded by an earlier stage."""
    for model in (searcher.embedder, searcher.reranker):
        forget = getattr(model, "forget", None)
        if forget:
            forget()


def evaluate(
    searcher: Searcher, queries: list[EvalQuery], modes: tuple[Mode, ...] | None = None
) -> dict[str, dict[str, dict]]:
    """{mode: {"all": scores, "<lang>": scores, ...}} for each retrieval stage.

    Every stage runs on the same index in the same process, so the rows compare.
    """
    if modes is None:
        modes = tuple(m for m in MODES if m != "rerank" or searcher.reranker is not None)
    papers = {p.id: p for p in searcher.store.papers()}
    results: dict[str, dict[str, dict]] = {}
    for mode in modes:
        if queries:  # warm caches, so the first query's latency is not a load time
            searcher.search(queries[0].query, k=1, mode=mode)
        by_lang: dict[str, Scores] = defaultdict(Scores)
        for query in queries:
            _forget_recent_vectors(searcher)  # each timed search encodes its query afresh
            started = time.perf_counter()
            hits = searcher.search(query.query, k=CUTOFF, mode=mode)
            seconds = time.perf_counter() - started
            rank = next((h.rank for h in hits if matches(papers.get(h.paper_id), query)), None)
            biased = bool(hits) and rank != 1 and hits[0].lang == query.lang
            for key in ("all", query.lang):
                by_lang[key].add(rank, seconds, biased)
        results[mode] = {lang: s.to_json() for lang, s in sorted(by_lang.items())}
    return results


def matches(paper: PaperRecord | None, query: EvalQuery) -> bool:
    if paper is None:
        return False
    if query.expect_arxiv and paper.arxiv_id == query.expect_arxiv:
        return True
    if query.expect_title:
        wanted = normalize_title(query.expect_title)
        return any(normalize_title(t) == wanted for t in [paper.title, *paper.titles.values()])
    return False


def format_table(results: dict[str, dict[str, dict]]) -> str:
    """Side-by-side table: one row per language, R@1/R@5/MRR per mode; then latency
    and same-language bias per mode."""
    modes = list(results)
    langs = sorted({lang for r in results.values() for lang in r}, key=lambda x: (x != "all", x))
    head = f"{'lang':<6}{'n':>4}  " + "  ".join(f"{m + ' R@1/R@5/MRR':<24}" for m in modes)
    lines = [head, "-" * len(head)]
    footer = []
    for mode in modes:
        overall = results[mode].get("all", {})
        footer.append(
            f"{mode:<7} latency p50 {overall.get('p50_ms', 0):.0f} ms, "
            f"p95 {overall.get('p95_ms', 0):.0f} ms; top hit a wrong paper in the "
            f"query's language: {overall.get('same_language_top_miss', 0)}/{overall.get('n', 0)}"
        )
    for lang in langs:
        n = results[modes[0]].get(lang, {}).get("n", 0)
        cells = []
        for mode in modes:
            s = results[mode].get(lang)
            cells.append(
                f"{s['recall@1']:.2f} / {s['recall@5']:.2f} / {s['mrr']:.2f}".ljust(24)
                if s
                else "-".ljust(24)
            )
        lines.append(f"{lang:<6}{n:>4}  " + "  ".join(cells))
    return "\n".join([*lines, "", *footer])


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
