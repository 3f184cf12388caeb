"""Third stage of search: the right passage inside the best papers.

The reranker reads only the fused candidates, so a paper is often found by
its abstract or a digest note while the passage that answers the question,
on some PDF page, was never a candidate. Here every passage of the best few
papers is scored by the reranker (their vectors are cached at ingest, so
this costs lookups and one matrix product), optionally smoothed with its
neighbours' scores (an answer that starts at the end of one passage and goes
on in the next), and the papers keep the scores they had: this stage only
chooses which of a paper's passages is shown and cited, never which papers
are found.

Inside one paper, the question's words that most of its passages share (the
method's name: "Reptile", "SEAL", "PaLM") no longer tell passages apart, yet
they lift the passages that name the method over the one that answers. So
each passage is also scored against the question without those words, and
the two scores are blended (docs/retrieval-pages.md#own-terms). Own terms are
counted over a paper's PDF pages only: a paper known from digest entries alone
(a few notes, each about it) has none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import regex

from paperlens.index.hits import Passage
from paperlens.index.lexical import fold, tokenize
from paperlens.index.rerank import Candidate
from paperlens.ingest.tables import holds_rows, row_names

Score = Callable[[str, Sequence[Candidate]], np.ndarray]
# In a paper of a few passages (a digest entry and its abstract) a term on one of
# them is what tells them apart, not the paper's own: an own term is on 3 at least.
OWN_TERM_MIN_PASSAGES = 3
# A term is removed where it stands alone: not inside a longer word of a spaced
# script ("vit" in "activity"), but also where CJK particles follow it ("Reptile의").
_WORD_EDGE = r"[\p{L}\p{M}\p{N}--[\p{Han}\p{Hangul}\p{Hiragana}\p{Katakana}]]"


@dataclass(frozen=True)
class FocusSettings:
    """How the best papers' passages are re-read (0 papers: the stage is off)."""

    papers: int = 0
    neighbour_weight: float = 0.0
    # Share of BM25 (scaled to the paper's best) added to each passage's score:
    # the terms a question shares with a page ("P100", "warmup") in any language.
    lexical_weight: float = 0.0
    # Weight of the question without the paper's own terms (those in at least
    # `own_term_share` of its passages) in each passage's score; 0 turns it off.
    own_terms_weight: float = 0.0
    own_term_share: float = 0.2
    # The shortened question's scores often spread less over a paper's passages
    # (a tenth of questions: under 0.57 of the full question's spread), so unscaled
    # its weight would count for less than it says (docs/retrieval-pages.md#spread).
    rescale_own_terms: bool = True
    # Passages holding a table's rows are read by their caption, column names and
    # row names, their numbers left out, and get `table_offset` added: a table's
    # numbers read as noise to the embedder, and its names alone score lower than
    # prose does (docs/retrieval-pages.md#row-names).
    table_row_names: bool = False
    table_offset: float = 0.0


def focus(
    query: str,
    ids: np.ndarray,
    scores: np.ndarray,
    paper_of: dict[int, str],
    passages_of: Callable[[str], Sequence[Passage]],
    candidates_for: Callable[[Sequence[int]], list[Candidate]],
    score: Score,
    settings: FocusSettings,
    lexical: Callable[[], dict[int, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ranking (`ids`, `scores`, best first) for `query`, with every passage of
    the best `settings.papers` papers (`passages_of`, in reading order) scored, each
    paper's best score unchanged. `score(query, candidates)` is the reranker's;
    `lexical` gives BM25 scores by passage id, asked for only when weighted."""
    if settings.papers <= 0 or len(ids) == 0:
        return ids, scores
    best: dict[str, float] = {}
    for pid, value in zip(ids.tolist(), scores.tolist(), strict=True):
        paper = paper_of.get(pid)
        if paper is not None and paper not in best:
            best[paper] = float(value)
        if len(best) == settings.papers:
            break
    bm25 = lexical() if lexical is not None and settings.lexical_weight > 0 else {}
    focused: dict[int, float] = {}
    for paper, top in best.items():
        passages = passages_of(paper)
        candidates = candidates_for([p.id for p in passages])
        if not candidates:
            continue
        pages = [p.text for p in passages if p.kind == "pdf"]
        candidates, tables = as_read(candidates, settings)
        raw = _scores(query, candidates, pages, score, settings)
        if settings.table_offset:
            raw = raw + settings.table_offset * tables
        known = [c.passage_id for c in candidates]
        if bm25:
            terms = np.array([bm25.get(pid, 0.0) for pid in known])
            raw = raw + settings.lexical_weight * terms / (terms.max() or 1.0)
        adjusted = _with_neighbours(raw, settings.neighbour_weight)
        # The paper keeps its score: only the order of its own passages changes.
        adjusted = adjusted - adjusted.max() + top
        focused.update(zip(known, adjusted.tolist(), strict=True))
    rest = [(pid, float(s)) for pid, s in zip(ids.tolist(), scores.tolist(), strict=True)]
    merged = {pid: s for pid, s in rest if pid not in focused}
    merged.update(focused)
    order = sorted(merged, key=lambda pid: -merged[pid])
    return (
        np.array(order, dtype=np.int64),
        np.array([merged[pid] for pid in order], dtype=np.float32),
    )


def as_read(
    candidates: Sequence[Candidate], settings: FocusSettings
) -> tuple[list[Candidate], np.ndarray]:
    """The candidates as this stage reads them (a table's rows by their names, when
    `settings.table_row_names`), and which of them hold a table's rows."""
    tables = np.array([holds_rows(c.text) for c in candidates], dtype=bool)
    if not settings.table_row_names:
        return list(candidates), tables
    read = [
        Candidate(c.passage_id, c.titles, row_names(c.text)) if table else c
        for c, table in zip(candidates, tables, strict=True)
    ]
    return read, tables


def with_read_forms(candidates: Sequence[Candidate], settings: FocusSettings) -> list[Candidate]:
    """`candidates`, and the form this stage reads those it reads otherwise in (a
    table by its row names): what the ingest caches the reranker's vectors for."""
    read, _ = as_read(candidates, settings)
    changed = [c for c, original in zip(read, candidates, strict=True) if c is not original]
    return [*candidates, *changed]


def _scores(
    query: str,
    candidates: Sequence[Candidate],
    pages: Sequence[str],
    score: Score,
    settings: FocusSettings,
) -> np.ndarray:
    """The reranker's scores of one paper's passages, blended with those of the
    question without the own terms of the paper's `pages` when it has any."""
    raw = np.asarray(score(query, candidates), dtype=np.float64)
    weight = settings.own_terms_weight
    if weight <= 0:
        return raw
    rest = without_own_terms(query, pages, settings.own_term_share)
    if rest is None:
        return raw
    shortened = np.asarray(score(rest, candidates), dtype=np.float64)
    if settings.rescale_own_terms:
        shortened = with_spread_of(raw, shortened)
    return (1 - weight) * raw + weight * shortened


def with_spread_of(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """`scores` moved and scaled to the mean and standard deviation of `reference`
    (their order unchanged; flat `scores` stay flat, at the reference's mean)."""
    spread = scores.std()
    if spread == 0:
        return np.full_like(scores, reference.mean())
    return reference.mean() + (scores - scores.mean()) * (reference.std() / spread)


def without_own_terms(query: str, texts: Sequence[str], share: float) -> str | None:
    """`query` without its terms found in at least `share` of `texts` (numbers
    stay: they are what a question asks about); None when no term goes, or
    when nothing would be left."""
    if not texts:
        return None
    folded = [fold(text) for text in texts]
    needed = max(share * len(texts), OWN_TERM_MIN_PASSAGES)
    rest = query
    for term in dict.fromkeys(tokenize(query)):
        if term.isdigit():
            continue
        alone = rf"(?<!{_WORD_EDGE}){regex.escape(term)}(?!{_WORD_EDGE})"
        found = regex.compile("(?V1)" + alone)
        if sum(1 for text in folded if found.search(text)) >= needed:
            rest = regex.sub("(?iV1)" + alone, " ", rest)
    rest = " ".join(rest.split())
    return rest if rest != " ".join(query.split()) and tokenize(rest) else None


def _with_neighbours(scores: np.ndarray, weight: float) -> np.ndarray:
    """Each passage's score plus `weight` times the better of its two neighbours'."""
    if weight <= 0 or len(scores) < 2:
        return scores
    before = np.concatenate([[-np.inf], scores[:-1]])
    after = np.concatenate([scores[1:], [-np.inf]])
    return scores + weight * np.maximum(before, after)
