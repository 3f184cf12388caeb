"""Copy a data directory's library into other storage (`paperlens migrate --to URL`).

Nothing is embedded again: each source's passages travel with the vectors the
catalog holds, and the embedding cache (the reranker's vectors too) is copied,
so searching and reranking work at once on the copy. Sources are copied one by
one through the seam's own `replace_source`, each atomic on the other side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from paperlens.index.records import PaperRecord
from paperlens.index.storage import LibraryStore
from paperlens.index.store import Store
from paperlens.ingest.documents import PaperDoc, SourceDoc
from paperlens.ingest.errors import PaperlensError


@dataclass
class CatalogPaper(PaperDoc):
    """A paper as a catalog already knows it: its id is kept, not derived again
    (a title-hash id came from the title its first source gave)."""

    known_id: str = ""

    @property
    def paper_id(self) -> str:
        return self.known_id


@dataclass
class MigrationReport:
    sources: int = 0
    failed_sources: int = 0
    passages: int = 0
    cached_vectors: int = 0
    warnings: list[str] = field(default_factory=list)


def migrate(
    source: Store, target: LibraryStore, on_progress: Callable[[str], None] | None = None
) -> MigrationReport:
    """Copy every source (passages, vectors, papers, failures) and the embedding cache."""
    if target.sources():
        raise PaperlensError(
            "the target already holds a library; migrate into an empty one "
            "(another PAPERLENS_MILVUS_PREFIX): nothing was written"
        )
    report = MigrationReport()
    for record in reversed(source.sources()):  # oldest first, as they were ingested
        if record.status != "ok":
            target.record_failure(record.uri, record.kind, record.error or "failed")
            report.failed_sources += 1
            continue
        passages, vectors = source.catalog.source_passages(record.uri)
        papers = source.catalog.source_papers(record.uri)  # what this source said
        doc = SourceDoc(
            uri=record.uri,
            sha256=record.sha256 or "",
            kind=record.kind,  # type: ignore[arg-type]
            papers=[_paper_doc(p) for p in papers],
            title=record.title,
            warnings=list(record.warnings),
        )
        report.passages += target.replace_source(doc, passages, vectors)
        target.set_validators(record.uri, record.etag, record.last_modified, checked=False)
        report.sources += 1
        if on_progress:
            on_progress(f"{record.uri}: {len(passages)} passages")
    for batch in source.catalog.iter_cached_vectors():
        target.cache_vectors(batch)
        report.cached_vectors += len(batch)
    return report


def _paper_doc(record: PaperRecord) -> CatalogPaper:
    return CatalogPaper(
        title=record.title,
        titles=dict(record.titles),
        arxiv_id=record.arxiv_id,
        authors=list(record.authors),
        published=record.published,
        abstract=record.abstract,
        links=dict(record.links),
        known_id=record.id,
    )
