"""Hybrid retrieval: dense + lexical (BM25) passage rankings, fused per paper.

Both rankers score passages; a paper's score under each ranker is its best
passage's (max-pooling, so one strong English abstract line is enough to find
a paper otherwise described in Hindi). The two paper scores are fused as a
weighted sum of z-scores (see `fuse`). Each hit carries the paper's best
passage to show and cite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from paperlens.index.embeddings import Embedder
from paperlens.index.focus import FocusSettings, focus
from paperlens.index.hits import Hit, Passage
from paperlens.index.records import PaperRecord
from paperlens.index.rerank import Candidate, Reranker
from paperlens.index.storage import LexicalSearch, LibraryStore
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.langid import detect_language

Mode = Literal["rerank", "hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid", "rerank")


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
    """Answers queries against one library's storage; cheap to keep for a whole session."""

    def __init__(
        self,
        store: LibraryStore,
        embedder: Embedder,
        *,
        candidates: int = 200,
        bm25_weight: float = 0.5,
        reranker: Reranker | None = None,
        rerank_candidates: int = 150,
        focus_settings: FocusSettings | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.reranker = reranker
        self.rerank_candidates = rerank_candidates
        self.weights = (1.0, bm25_weight)  # dense, BM25
        self.focus_settings = focus_settings or FocusSettings()

    @property
    def default_mode(self) -> Mode:
        return "rerank" if self.reranker is not None else "hybrid"

    def search(self, query: str, k: int = 5, mode: Mode | None = None) -> list[Hit]:
        """The k best papers for `query`, each with its best passage."""
        query = query.strip()
        if not query or k <= 0:
            return []
        rankings = self._rank(query, mode or self.default_mode)
        fused = fuse(rankings, self._paper_of(rankings), weights=self.weights)
        return self._hits(fused[:k])

    def search_passages(self, query: str, k: int = 8, mode: Mode | None = None) -> list[Hit]:
        """The k best passages (several per paper allowed), for answering questions."""
        query = query.strip()
        if not query or k <= 0:
            return []
        fused = fuse(self._rank(query, mode or self.default_mode), None, weights=self.weights)[:k]
        passages = self.store.passages(int(f.paper_id) for f in fused)
        chosen = [
            PaperScore(passages[f.passage_id].paper_id, f.score, f.passage_id)
            for f in fused
            if f.passage_id in passages
        ]
        return self._hits(chosen)

    def similar_to_vector(
        self, vector: np.ndarray, k: int, exclude: Sequence[str] = ()
    ) -> list[tuple[PaperRecord, float]]:
        """Papers whose mean passage vector is closest to `vector`."""
        found = self.store.search_papers(vector, k + len(exclude))
        ranked = [(pid, score) for pid, score in found if pid not in exclude][:k]
        records = {p.id: p for p in self.store.papers(pid for pid, _ in ranked)}
        return [(records[pid], score) for pid, score in ranked if pid in records]

    # ---- internals ------------------------------------------------------------

    def _rank(self, query: str, mode: Mode) -> list[RankedPassages]:
        if mode == "rerank":
            if self.reranker is None:
                raise PaperlensError("no reranker is configured (PAPERLENS_RERANK_MODEL)")
            return [self._rerank(query, self._rank(query, "hybrid"))]
        rankings = []
        if mode in ("hybrid", "dense"):
            vector = self.embedder.embed_queries([query])[0]
            lang = detect_language(query)
            found = self.store.search_passages(vector, self.candidates, lang)
            rankings.append(RankedPassages(*found))
        if mode in ("hybrid", "bm25"):
            rankings.append(RankedPassages(*self.lexical().search(query, self.candidates)))
        return rankings

    def _rerank(self, query: str, rankings: list[RankedPassages]) -> RankedPassages:
        """The fused top passages, re-scored by the reranker, best first."""
        fused = fuse(rankings, None, weights=self.weights)[: self.rerank_candidates]
        candidates = self.candidates_for([int(f.paper_id) for f in fused])
        if not candidates:
            return RankedPassages(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        scores = self.reranker.score(query, candidates)
        order = np.argsort(-scores, kind="stable")
        ids = np.array([candidates[i].passage_id for i in order], dtype=np.int64)
        ids, ranked = focus(
            query,
            ids,
            scores[order].astype(np.float32),
            {pid: p.paper_id for pid, p in self.store.passages(ids[:50].tolist()).items()},
            self.store.paper_passages,
            self.candidates_for,
            self.reranker.score,
            self.focus_settings,
            lambda: self._lexical_scores(query),
        )
        return RankedPassages(ids, ranked)

    def _lexical_scores(self, query: str) -> dict[int, float]:
        ids, scores = self.lexical().search(query, 2000)
        return dict(zip(ids.tolist(), scores.tolist(), strict=True))

    def candidates_for(self, passage_ids: Sequence[int]) -> list[Candidate]:
        """Passages as the reranker reads them: the paper's titles, then the text.

        The titles are those stored with the passage at ingest (its header), so the
        reranker's cached vector stays valid when later sources add titles.
        """
        documents = self.store.passage_documents(passage_ids)
        return [Candidate(pid, *documents[pid]) for pid in passage_ids if pid in documents]

    def lexical(self) -> LexicalSearch:
        """The BM25 index: postings live in the catalog, updated with each commit."""
        return self.store.lexical

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


def fuse(
    rankings: list[RankedPassages],
    key_of: dict[int, str] | None = None,
    *,
    weights: Sequence[float] = (1.0, 0.5),
) -> list[PaperScore]:
    """Fuse rankers by weighted z-scores, max-pooling passages per key (paper).

    With `key_of=None` every passage is its own key (passage-level fusion).
    Z-scores put cosine and BM25 on one scale while keeping how far ahead a
    ranker's best candidates are, which rank fusion throws away: measured on
    the dev queries, reciprocal-rank fusion with BM25 dropped recall@5 from
    0.83 (dense alone) to 0.54, weighted z-scores keep 0.83 and raise MRR.
    A key missing from a ranker's candidates gets that ranker's lowest z.
    One ranker alone keeps its raw scores (cosine, or BM25).
    """
    pooled = [_max_pool(r, key_of) for r in rankings]
    if len(pooled) == 1:
        only = pooled[0]
        return [PaperScore(k, score, pid) for k, (score, pid) in _ordered(only)]
    fused: dict[str, float] = {}
    shown: dict[str, int] = {}
    zscores = [_zscores(p) for p in pooled]
    keys = {k for p in pooled for k in p}
    for key in keys:
        fused[key] = sum(
            w * z.get(key, min(z.values(), default=0.0))
            for w, z in zip(weights, zscores, strict=False)
        )
        shown[key] = next(p[key][1] for p in pooled if key in p)  # first ranker's passage
    order = sorted(fused, key=lambda k: (-fused[k], k))
    return [PaperScore(k, fused[k], shown[k]) for k in order]


def _max_pool(ranking: RankedPassages, key_of: dict[int, str] | None) -> dict[str, tuple]:
    """key -> (best score, best passage id); ranking order is best first."""
    pooled: dict[str, tuple[float, int]] = {}
    for pid, score in zip(ranking.ids.tolist(), ranking.scores.tolist(), strict=True):
        key = str(pid) if key_of is None else key_of.get(pid)
        if key is not None and key not in pooled:
            pooled[key] = (float(score), pid)
    return pooled


def _zscores(pooled: dict[str, tuple[float, int]]) -> dict[str, float]:
    if not pooled:
        return {}
    values = np.array([score for score, _ in pooled.values()])
    spread = float(values.std()) or 1.0
    return {k: (score - float(values.mean())) / spread for k, (score, _) in pooled.items()}


def _ordered(pooled: dict[str, tuple[float, int]]):
    return sorted(pooled.items(), key=lambda item: (-item[1][0], item[0]))


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
