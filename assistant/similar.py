"""Papers like a paper, or like a piece of text, with the passages that explain why."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from paperlens.index.hits import Passage
from paperlens.index.library import Library
from paperlens.index.limits import check_query
from paperlens.index.records import PaperRecord
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.langid import detect_language


class PaperNotFound(PaperlensError):
    """No paper in the library matches the id or title the user gave."""


@dataclass
class SimilarPaper:
    paper: PaperRecord
    score: float
    why: list[Passage] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "paper_id": self.paper.id,
            "arxiv_id": self.paper.arxiv_id,
            "title": self.paper.title,
            "score": round(self.score, 4),
            "url": self.paper.url,
            "why": [
                {"passage": p.text, "page": p.page, "lang": p.lang, "kind": p.kind}
                for p in self.why
            ],
        }


def resolve_paper(library: Library, ref: str) -> PaperRecord:
    """A paper by id, arXiv id or title; a miss suggests close titles."""
    ref = ref.strip()
    if not ref:
        raise PaperNotFound("give a paper id, arXiv id or title")
    paper = library.store.find_paper(ref)
    if paper is not None:
        return paper
    titles = {p.title: p for p in library.store.papers()}
    close = difflib.get_close_matches(ref, list(titles), n=3, cutoff=0.4)
    if not close:
        lowered = ref.casefold()
        close = [t for t in titles if lowered in t.casefold()][:3]
    hint = f"; did you mean: {'; '.join(close)}?" if close else ""
    raise PaperNotFound(f"no paper {ref!r} in the library{hint}")


def similar_to_paper(library: Library, ref: str, k: int = 5) -> list[SimilarPaper]:
    paper = resolve_paper(library, ref)
    vector = library.store.paper_vector(paper.id)
    if vector is None:
        return []
    return _explain(
        library, library.searcher.similar_to_vector(vector, k, exclude=[paper.id]), vector
    )


def similar_to_text(library: Library, text: str, k: int = 5) -> list[SimilarPaper]:
    text = check_query(text, library.settings, "text").strip()
    if not text:
        raise PaperlensError("give some text to compare with")
    raw = library.embedder.embed_passages([text])[0]
    vector = library.store.center(raw, detect_language(text))[0]
    return _explain(library, library.searcher.similar_to_vector(vector, k), vector)


def _explain(
    library: Library,
    ranked: list[tuple[PaperRecord, float]],
    vector: np.ndarray,
    per_paper: int = 2,
) -> list[SimilarPaper]:
    """Attach each result's passages closest to the query vector."""
    results = []
    for paper, score in ranked:
        ids, vectors = library.store.passage_vectors(paper.id)
        best = [ids[i] for i in np.argsort(-(vectors @ vector))[:per_paper]] if ids else []
        passages = library.store.passages(best)
        results.append(SimilarPaper(paper, score, [passages[i] for i in best if i in passages]))
    return results
