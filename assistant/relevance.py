"""How well the passages behind an answer match the question, on an absolute scale.

Search ranks by fused z-scores (dense + BM25), which say how far a passage is
ahead of the other candidates, not whether it is relevant at all: an
unrelated question still gets a confident-looking top score. The dense
cosine (in the index's language-centered space) does separate the two, so
each cited passage carries it as its `relevance`, and an answer whose best
passage falls under WEAK_EVIDENCE says so.

`names_not_found`: the names a question asks about that no paper found
mentions (assistant/checks/names.py); `ask` abstains on them, `search` says so.

Threshold measured on the bundled samples (7 questions; docs/answers.md#thresholds):
questions the library answers scored 0.35-0.47, unrelated ones 0.11-0.21.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from paperlens.assistant.checks.names import unknown_names
from paperlens.index.hits import Hit
from paperlens.index.library import Library
from paperlens.ingest.langid import detect_language

WEAK_EVIDENCE = 0.25


def passage_relevance(
    library: Library, query: str, passages: Iterable[tuple[int, str]]
) -> dict[int, float]:
    """Cosine of `query` with each (passage id, paper id), in the index's space."""
    wanted: dict[str, set[int]] = {}
    for passage_id, paper_id in passages:
        wanted.setdefault(paper_id, set()).add(int(passage_id))
    if not wanted or not query.strip():
        return {}
    store = library.store
    vector = library.embedder.embed_queries([query])[0]
    centered = store.center(vector, detect_language(query))[0]
    scores: dict[int, float] = {}
    for paper_id, ids in wanted.items():
        paper_ids, vectors = store.passage_vectors(paper_id)
        for passage_id, row in zip(paper_ids, vectors, strict=True):
            if passage_id in ids:
                scores[passage_id] = round(float(np.dot(row, centered)), 4)
    return scores


def weak_evidence_note(best: float | None) -> str | None:
    """The warning an answer carries when even its best passage matches weakly."""
    if best is None or best >= WEAK_EVIDENCE:
        return None
    return (
        f"weak evidence: the best passage found matches the question only weakly "
        f"(relevance {best:.2f} < {WEAK_EVIDENCE:.2f}); the answer may not be supported "
        "by your library"
    )


def names_not_found(library: Library, question: str, hits: list[Hit]) -> list[str]:
    """The names `question` asks about that no paper among `hits` mentions, in its
    title or any of its passages (none when the check is off)."""
    if not hits or not library.settings.abstain_on_unknown_names:
        return []
    texts = [hit.title for hit in hits]
    for paper_id in dict.fromkeys(hit.paper_id for hit in hits):
        texts += [passage.text for passage in library.store.paper_passages(paper_id)]
    return unknown_names(question, texts, [hit.passage for hit in hits])
