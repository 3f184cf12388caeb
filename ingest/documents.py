"""The nouns that travel through paperlens: what a source says about papers.

Parsers (digests, arXiv, PDFs) produce `SourceDoc`s; the index turns their
`PaperDoc`s into catalog papers and their `Section`s into embedded passages.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

SectionKind = Literal["digest", "abstract", "pdf"]

ARXIV_ID = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
OLD_ARXIV_ID = re.compile(r"\b([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\b")


@dataclass(frozen=True)
class Section:
    """One piece of text about a paper, in one language.

    `page` is the 1-based PDF page for `kind == "pdf"`, else None.
    `lang` is an ISO 639-1 code ("ko", "ja", "en", ...) or None when unknown.
    """

    kind: SectionKind
    text: str
    lang: str | None = None
    page: int | None = None
    heading: str | None = None


@dataclass
class PaperDoc:
    """One paper as one source describes it.

    The same paper met in several sources (a Korean digest, a Japanese digest,
    its PDF) yields several PaperDocs that share one `paper_id`.
    """

    title: str
    titles: dict[str, str] = field(default_factory=dict)
    arxiv_id: str | None = None
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    abstract: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    # The heading a digest lists the paper under (DAIR.AI's week, a topic),
    # kept so a reader can tell which issue of a digest described it.
    listed_under: str | None = None

    @property
    def paper_id(self) -> str:
        return paper_id_for(self.arxiv_id, self.title)


@dataclass
class SourceDoc:
    """What one ingested source (file, URL, arXiv id) yielded."""

    uri: str
    sha256: str
    kind: Literal["digest", "pdf", "arxiv"]
    papers: list[PaperDoc]
    title: str | None = None
    warnings: list[str] = field(default_factory=list)  # partial failures (e.g. PDF skipped)
    # Digests only: how many entries (table rows, list items, headed blocks
    # that carry links) the parser saw, and the names of those that yielded
    # no paper, so a loss is always reported, never silent.
    entries: int | None = None
    skipped: list[str] = field(default_factory=list)


def title_section(paper: PaperDoc) -> Section:
    """The text of a paper a source names without describing it: its titles and the
    heading it is listed under ("Fast R-CNN" under "目标检测"), so it can be searched."""
    titles = list(dict.fromkeys(t.strip() for t in [paper.title, *paper.titles.values()] if t))
    lines = [" / ".join(titles)]
    if paper.listed_under and paper.listed_under not in titles:
        lines.append(paper.listed_under)
    lang = next((code for code, t in paper.titles.items() if t == paper.title), None)
    return Section(
        "digest", "\n".join(lines), None if lang in (None, "und") else lang, heading="title"
    )


def normalize_title(title: str) -> str:
    """Fold case, accents, punctuation and spacing so one title matches its variants."""
    folded = unicodedata.normalize("NFKD", title).casefold()
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", folded))


def paper_id_for(arxiv_id: str | None, title: str) -> str:
    """Stable paper id: `arxiv:<id>` when known, else a hash of the normalized title."""
    if arxiv_id:
        return f"arxiv:{arxiv_id}"
    digest = hashlib.sha1(normalize_title(title).encode("utf-8")).hexdigest()[:16]
    return f"title:{digest}"


def find_arxiv_id(text: str) -> str | None:
    """The first arXiv id (without version) named in `text`, if any."""
    match = ARXIV_ID.search(text)
    if match:
        return match.group(1)
    match = OLD_ARXIV_ID.search(text)
    return match.group(1) if match else None


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
