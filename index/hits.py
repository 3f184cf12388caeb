"""What search returns: one `Hit` per paper, with its best passage."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Passage:
    """A stored chunk of text: its integer id is its FAISS id."""

    id: int
    paper_id: str
    source_id: int
    kind: str  # digest | abstract | pdf
    lang: str | None
    page: int | None
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A paper found by search, represented by its best-matching passage."""

    rank: int
    paper_id: str
    arxiv_id: str | None
    title: str
    score: float
    passage: str
    passage_id: int
    page: int | None
    lang: str | None
    kind: str
    source: str
    url: str | None

    def to_json(self) -> dict:
        return asdict(self)


def snippet(text: str, width: int) -> str:
    """A one-line preview of passage text, cut to `width` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
