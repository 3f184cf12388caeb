"""What the catalog stores and hands back, whatever backend holds it:
`NewPassage` (about to be stored), `PaperRecord`, `SourceRecord`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from paperlens.ingest.documents import PaperDoc
from paperlens.ingest.errors import PaperlensError


class IndexMismatchError(PaperlensError):
    """The index was built with another embedding model, or by another schema."""


@dataclass(frozen=True)
class NewPassage:
    """A passage about to be stored: `header` is the paper context embedded with it."""

    paper_id: str
    kind: str
    lang: str | None
    page: int | None
    header: str
    text: str
    start: int
    end: int

    @property
    def embed_text(self) -> str:
        return embed_text(self.header, self.text)


def embed_text(header: str, text: str) -> str:
    """What a passage's vectors and postings are made from: its paper context, then it."""
    return f"{header}\n{text}" if header else text


@dataclass
class PaperRecord:
    """A paper as the catalog knows it, merged over every source that names it."""

    id: str
    arxiv_id: str | None
    title: str
    titles: dict[str, str]
    authors: list[str]
    published: str | None
    abstract: str | None
    links: dict[str, str]
    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    n_passages: int = 0
    has_pdf: bool = False

    @property
    def url(self) -> str | None:
        links = self.links
        return links.get("paper") or links.get("pdf") or next(iter(links.values()), None)


@dataclass(frozen=True)
class SourceRecord:
    id: int
    uri: str
    kind: str
    sha256: str | None
    title: str | None
    status: str
    error: str | None
    ingested_at: str
    etag: str | None = None  # HTTP validators from the last fetch (URL sources)
    last_modified: str | None = None
    checked_at: str | None = None  # last time `refresh` asked the server
    warnings: list[str] = field(default_factory=list)  # what its last ingest lost, by name


@dataclass(frozen=True)
class ForgottenSource:
    """What forgetting one source removed: its passages, and the papers that had no
    passage left (a paper other sources also gave stays, with their passages)."""

    uri: str
    status: str  # the source's status before it was forgotten: "ok" or "failed"
    passages: int
    papers: int


def merge_paper(old: PaperRecord | None, doc: PaperDoc) -> PaperRecord:
    """Fold what one source says about a paper into what the catalog knew."""
    if old is None:
        return PaperRecord(
            id=doc.paper_id,
            arxiv_id=doc.arxiv_id,
            title=doc.title,
            titles=dict(doc.titles),
            authors=list(doc.authors),
            published=doc.published,
            abstract=doc.abstract,
            links=dict(doc.links),
        )
    titles = {**doc.titles, **old.titles}
    # An English title (from arXiv or a bilingual digest) beats a translated one.
    new_is_english = "en" in doc.titles and doc.titles["en"] == doc.title
    title = doc.title if new_is_english and "en" not in old.titles else old.title
    return PaperRecord(
        id=old.id,
        arxiv_id=old.arxiv_id or doc.arxiv_id,
        title=title,
        titles=titles,
        authors=old.authors or list(doc.authors),
        published=old.published or doc.published,
        abstract=old.abstract or doc.abstract,
        links={**doc.links, **old.links},
    )


def paper_fields(paper: PaperDoc | PaperRecord) -> dict:
    """What one source says about a paper, as stored beside its passages (a mention):
    both backends merge a paper's record from its sources' mentions, so forgetting
    or re-ingesting a source takes what it said along."""
    return {
        "title": paper.title,
        "titles": paper.titles,
        "arxiv_id": paper.arxiv_id,
        "authors": paper.authors,
        "published": paper.published,
        "abstract": paper.abstract,
        "links": paper.links,
    }


def paper_from_fields(fields: dict) -> PaperDoc:
    return PaperDoc(
        title=fields["title"],
        titles=dict(fields.get("titles") or {}),
        arxiv_id=fields.get("arxiv_id"),
        authors=list(fields.get("authors") or []),
        published=fields.get("published"),
        abstract=fields.get("abstract"),
        links=dict(fields.get("links") or {}),
    )


def merged_paper(paper_id: str, mentions: Iterable[dict]) -> PaperRecord | None:
    """A paper's record from its mentions (`paper_fields`), oldest source first; None
    when no source mentions it. The id stays the one it is stored under (a title-hash
    id came from the title its first source gave)."""
    record = None
    for fields in mentions:
        record = merge_paper(record, paper_from_fields(fields))
    if record is not None:
        record.id = paper_id
    return record


def arxiv_ref(ref: str) -> str:
    """The bare arXiv id a user's reference may name ("arxiv:2106.09685v2" -> "2106.09685")."""
    return ref.removeprefix("arxiv:").removeprefix("arXiv:").split("v")[0]
