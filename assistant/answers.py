"""What the assistant hands back: an `Answer` (an answer or a summary) and its
`Citation`s, the numbered passages the model was shown, as a reader sees them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol


class Citable(Protocol):
    """A passage a sentence can rest on: a search `Hit` or a `Citation`."""

    @property
    def title(self) -> str: ...

    @property
    def passage(self) -> str: ...

    @property
    def passage_id(self) -> int | None: ...

    @property
    def page(self) -> int | None: ...


@dataclass
class Citation:
    n: int  # its number in the prompt: "[n]" in the text points here
    paper_id: str
    arxiv_id: str | None
    title: str
    page: int | None
    passage: str
    url: str | None
    passage_id: int | None = None  # to show the passage in context (assistant/evidence.py)
    score: float | None = None  # the search score that selected it (fused, relative)
    relevance: float | None = None  # cosine with the question (assistant/relevance.py)


@dataclass(frozen=True)
class SummaryProgress:
    """A long paper's summary is reading part `part` of `parts` (notes come before
    the draft, and take a while): streamed so a waiting user sees progress."""

    part: int
    parts: int
    time_left: str | None = None  # at the rate of the parts read so far

    def describe(self) -> str:
        left = f", about {self.time_left} left" if self.time_left else ""
        return f"reading the paper: part {self.part} of {self.parts}{left}"


@dataclass
class Answer:
    text: str
    lang: str
    citations: list[Citation] = field(default_factory=list)
    removed_markers: int = 0
    mode: Literal["llm", "extractive", "no-results"] = "llm"
    model: str | None = None
    warnings: list[str] = field(default_factory=list)
    abstained: bool = False  # the library holds nothing that answers the question
    sentences: int = 0  # sentences the model wrote (after citation checks)
    supported: int = 0  # of those, sentences a cited passage supports
    relevance: float | None = None  # best passage's reranker score, when known
    # names the question asks about that no paper found mentions (it abstained on them)
    unknown_names: list[str] = field(default_factory=list)
    # passages ([n]) whose table cells hold figures the answer states; their column is
    # unchecked (a warning says so; docs/answers.md#table-figures)
    figures_from_tables: list[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)
