"""`paperlens refresh`: fetch every URL source again, ingest only what changed.

Weekly digests grow (a new week on top, entries added to a reading list). For
each source ingested from an http(s) URL, refresh sends one conditional GET
(If-None-Match / If-Modified-Since from the validators stored at the last
fetch). A 304 costs that request and nothing else; a 200 whose bytes hash as
before costs no parsing either. A changed source is parsed and stored again:
its papers whose passages are unchanged keep them (LibraryStore.replace_source) and
their vectors come from the embedding cache, so only the new passages are
embedded. The report names the papers each source added and removed.

arXiv papers are not re-fetched: an arXiv version never changes (a newer one
is ingested by its id). Fetches obey the usual rules (ingest/fetch.py) plus
`refresh_delay_seconds` between two requests to one host.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from paperlens.index.ingestion import EventCallback, Ingestor, IngestReport
from paperlens.index.storage import LibraryStore
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.sources import parse_raw, raw_from_fetched

RefreshStatus = Literal["not-modified", "unchanged", "updated", "failed"]


@dataclass(frozen=True)
class PaperChange:
    paper_id: str
    arxiv_id: str | None
    title: str


@dataclass
class RefreshOutcome:
    """What refreshing one URL source did."""

    uri: str
    status: RefreshStatus
    added: list[PaperChange] = field(default_factory=list)  # papers new in this source
    removed: list[PaperChange] = field(default_factory=list)  # papers it no longer lists
    passages: int = 0  # passages the source has now (updated sources)
    error: str | None = None


@dataclass
class RefreshReport:
    outcomes: list[RefreshOutcome] = field(default_factory=list)
    pdfs: IngestReport = field(default_factory=IngestReport)  # arXiv papers followed

    @property
    def added(self) -> list[PaperChange]:
        return [paper for outcome in self.outcomes for paper in outcome.added]

    @property
    def succeeded(self) -> bool:
        """False only when every source failed (nothing could be checked)."""
        return not self.outcomes or any(o.status != "failed" for o in self.outcomes)

    def to_json(self) -> dict:
        counts = {s: sum(o.status == s for o in self.outcomes) for s in _STATUSES}
        return {
            "sources": [asdict(o) for o in self.outcomes],
            "checked": len(self.outcomes),
            **{status.replace("-", "_"): n for status, n in counts.items()},
            "papers_added": len(self.added),
            "pdfs": self.pdfs.to_json(),
        }


_STATUSES: tuple[RefreshStatus, ...] = ("not-modified", "unchanged", "updated", "failed")


def url_sources(store: LibraryStore, arxiv_abs_url: str) -> list[str]:
    """URIs of the sources ingested from http(s) URLs (arXiv papers excepted)."""
    arxiv = arxiv_abs_url.rstrip("/") + "/"
    return sorted(
        s.uri
        for s in store.sources()
        if s.uri.startswith(("http://", "https://")) and not s.uri.startswith(arxiv)
    )


def refresh(
    ingestor: Ingestor, *, pdfs: bool = False, on_event: EventCallback | None = None
) -> RefreshReport:
    """Check every URL source once; ingest the changed ones; never raises for a bad source."""
    report = RefreshReport()
    new_arxiv: list[str] = []
    for uri in url_sources(ingestor.store, ingestor.settings.arxiv_abs_url):
        outcome = _refresh_one(ingestor, uri)
        report.outcomes.append(outcome)
        new_arxiv += [p.arxiv_id for p in outcome.added if p.arxiv_id]
        if on_event:
            on_event(describe(outcome))
    if pdfs and new_arxiv:
        ingestor.follow_arxiv(new_arxiv, report.pdfs, on_event)
    return report


def _refresh_one(ingestor: Ingestor, uri: str) -> RefreshOutcome:
    store, settings = ingestor.store, ingestor.settings
    previous = store.source(uri)
    known = previous is not None and previous.status == "ok"
    try:
        fetched = ingestor.fetcher_in_use().get(
            uri,
            polite_delay=settings.refresh_delay_seconds,
            # A source that never landed is fetched whole, whatever the server says.
            etag=previous.etag if known else None,
            last_modified=previous.last_modified if known else None,
        )
        if fetched.not_modified:
            store.set_validators(uri, fetched.etag, fetched.last_modified)
            return RefreshOutcome(uri, "not-modified")
        raw = raw_from_fetched(fetched)
        if known and previous.sha256 == raw.sha256:
            store.set_validators(uri, raw.etag, raw.last_modified)
            return RefreshOutcome(uri, "unchanged")
        before = {p.id: p for p in store.papers(sorted(store.source_paper_ids(uri)))}
        doc = parse_raw(raw, settings)
        stored = ingestor.ingest_doc(doc)
        store.set_validators(uri, raw.etag, raw.last_modified)
    except PaperlensError as exc:
        store.record_failure(uri, previous.kind if previous else "digest", str(exc))
        return RefreshOutcome(uri, "failed", error=str(exc))
    after = {p.paper_id: p for p in doc.papers}
    return RefreshOutcome(
        uri,
        "updated",
        added=[PaperChange(i, p.arxiv_id, p.title) for i, p in after.items() if i not in before],
        removed=[PaperChange(i, p.arxiv_id, p.title) for i, p in before.items() if i not in after],
        passages=stored.passages,
    )


def describe(outcome: RefreshOutcome) -> str:
    """One human line per source (more for the papers it added)."""
    if outcome.status == "failed":
        return f"error: {outcome.error}"
    if outcome.status != "updated":
        return f"{outcome.status}: {outcome.uri}"
    line = f"updated: {outcome.uri} (+{len(outcome.added)} papers, -{len(outcome.removed)})"
    for paper in outcome.added:
        line += f"\n  added: {paper.title}" + (f" [{paper.arxiv_id}]" if paper.arxiv_id else "")
    for paper in outcome.removed:
        line += f"\n  no longer listed: {paper.title}"
    return line
