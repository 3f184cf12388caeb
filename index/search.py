"""Hybrid retrieval: dense (FAISS) + lexical (BM25), fused per paper.

Both rankers score passages; a paper's score under each ranker is its best
passage's (max-pooling, so one strong English abstract line is enough to find
a paper otherwise described in Hindi). The two paper rankings are fused with
reciprocal-rank fusion, which needs no score calibration between cosine and
BM25. Each hit carries the paper's best passage to show and cite.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from index.embeddings import Embedder
from index.hits import Hit, Passage
from index.lexical import LexicalIndex
from index.store import PaperRecord, Store

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class RankedPassages:
    """One ranker's passages, best first."""

    ids: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class PaperScore:
    paper_id: str
    score: float
    passage_id: int


class Searcher:
    """Answers queries against one `Store`; cheap to keep for a whole session."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        *,
        candidates: int = 200,
        rrf_k: int = 60,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._lexical: LexicalIndex | None = None
        self._lexical_generation = -1
        self._lock = threading.Lock()

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The k best papers for `query`, each with its best passage."""
        query = query.strip()
        if not query or k <= 0:
            return []
        rankings = self._rank(query, mode)
        fused = fuse_papers(rankings, self._paper_of(rankings), rrf_k=self.rrf_k)
        return self._hits(fused[:k])

    def search_passages(self, query: str, k: int = 8, mode: Mode = "hybrid") -> list[Hit]:
        """The k best passages (several per paper allowed), for answering questions."""
        query = query.strip()
        if not query or k <= 0:
            return []
        rankings = self._rank(query, mode)
        scores: dict[int, float] = {}
        for ranking in rankings:
            for rank, pid in enumerate(ranking.ids.tolist()):
                scores[pid] = scores.get(pid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        best = sorted(scores, key=scores.get, reverse=True)[:k]
        passages = self.store.passages(best)
        chosen = [
            PaperScore(passages[pid].paper_id, scores[pid], pid) for pid in best if pid in passages
        ]
        return self._hits(chosen)

    def similar_to_vector(
        self, vector: np.ndarray, k: int, exclude: Sequence[str] = ()
    ) -> list[tuple[PaperRecord, float]]:
        """Papers whose mean passage vector is closest to `vector`."""
        index, paper_ids = self.store.paper_index()
        if index.ntotal == 0:
            return []
        want = min(k + len(exclude), index.ntotal)
        scores, rows = index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), want)
        ranked = [
            (paper_ids[row], float(score))
            for row, score in zip(rows[0], scores[0], strict=True)
            if row >= 0 and paper_ids[row] not in exclude
        ][:k]
        records = {p.id: p for p in self.store.papers(pid for pid, _ in ranked)}
        return [(records[pid], score) for pid, score in ranked if pid in records]

    # ---- internals ------------------------------------------------------------

    def _rank(self, query: str, mode: Mode) -> list[RankedPassages]:
        rankings = []
        if mode in ("hybrid", "dense"):
            vector = self.embedder.embed_queries([query])[0]
            rankings.append(RankedPassages(*self.store.search_passages(vector, self.candidates)))
        if mode in ("hybrid", "bm25"):
            rankings.append(RankedPassages(*self.lexical().search(query, self.candidates)))
        return rankings

    def lexical(self) -> LexicalIndex:
        """The BM25 index, rebuilt when the catalog has changed since it was built."""
        with self._lock:
            generation = self.store.generation
            if self._lexical is None or generation != self._lexical_generation:
                rows = list(self.store.iter_passage_texts())
                self._lexical = LexicalIndex([r[0] for r in rows], [r[1] for r in rows])
                self._lexical_generation = generation
            return self._lexical

    def _paper_of(self, rankings: list[RankedPassages]) -> dict[int, str]:
        ids = {int(i) for r in rankings for i in r.ids}
        return {pid: p.paper_id for pid, p in self.store.passages(ids).items()}

    def _hits(self, chosen: list[PaperScore]) -> list[Hit]:
        passages = self.store.passages(c.passage_id for c in chosen)
        papers = {p.id: p for p in self.store.papers(c.paper_id for c in chosen)}
        sources = self.store.source_uris(p.source_id for p in passages.values())
        hits = []
        for choice in chosen:
            passage = passages.get(choice.passage_id)
            paper = papers.get(choice.paper_id)
            if passage is None or paper is None:
                continue
            hits.append(_hit(len(hits) + 1, paper, passage, choice.score, sources))
        return hits


def fuse_papers(
    rankings: list[RankedPassages], paper_of: dict[int, str], *, rrf_k: int = 60
) -> list[PaperScore]:
    """Reciprocal-rank fusion of per-ranker paper rankings (max-pooled passages)."""
    single = len(rankings) == 1  # one ranker: keep its own score (cosine or BM25)
    fused: dict[str, float] = {}
    shown: dict[str, int] = {}
    for ranking in rankings:
        seen: set[str] = set()
        for pid, raw in zip(ranking.ids.tolist(), ranking.scores.tolist(), strict=True):
            paper = paper_of.get(pid)
            if paper is None or paper in seen:
                continue
            seen.add(paper)
            gain = raw if single else 1.0 / (rrf_k + len(seen))
            fused[paper] = fused.get(paper, 0.0) + gain
            shown.setdefault(paper, pid)  # first ranker's best passage wins (dense in hybrid)
    order = sorted(fused, key=lambda p: (-fused[p], p))
    return [PaperScore(p, fused[p], shown[p]) for p in order]


def _hit(
    rank: int, paper: PaperRecord, passage: Passage, score: float, sources: dict[int, str]
) -> Hit:
    return Hit(
        rank=rank,
        paper_id=paper.id,
        arxiv_id=paper.arxiv_id,
        title=paper.title,
        score=round(float(score), 6),
        passage=passage.text,
        passage_id=passage.id,
        page=passage.page,
        lang=passage.lang,
        kind=passage.kind,
        source=sources.get(passage.source_id, ""),
        url=passage_url(paper, passage),
    )


def passage_url(paper: PaperRecord, passage: Passage) -> str | None:
    """Where a reader can check the passage: the PDF page if it came from the PDF."""
    if passage.kind == "pdf" and passage.page:
        pdf = paper.links.get("pdf")
        if pdf:
            return f"{pdf}#page={passage.page}"
    return paper.url
