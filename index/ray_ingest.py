"""`paperlens ingest --ray`: parse and embed on a Ray cluster, write here.

The pipeline is one Ray Data dataset, streamed:

    refs -> parse_source (tasks: bytes -> SourceDoc -> passage rows)
         -> PassageEncoder (actor pool: models loaded once per worker, batches of passages)
         -> this process, in input order

Workers never touch the catalog. The driver (this process) puts the workers'
vectors in the catalog's embedding cache and ingests each parsed source with
`Ingestor.ingest_doc`, the write path of a plain ingest: papers, passages and
vectors land in one transaction per source, unchanged sources are skipped, and
an interrupted run resumes. A passage whose header changed while the run was
under way (its paper's catalog title came from an earlier source of the same
run) misses the cache and is embedded here, so the library is exactly what a
plain ingest of the same sources in the same order builds.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from paperlens.index.ingestion import (
    EventCallback,
    Ingestor,
    IngestReport,
    SourceOutcome,
    describe,
    doc_passages,
)
from paperlens.index.ray_cluster import Cluster, ClusterOptions, import_ray, ray_cluster
from paperlens.index.ray_workers import SOURCE_ROW, ParsedSource, PassageEncoder, parse_source
from paperlens.ingest.errors import IngestError, PaperlensError
from paperlens.ingest.sources import SourceRef, resolve_refs

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ERROR_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", re.M)


@dataclass
class SourceGroup:
    """A source row and its passage rows, as they come back from the workers."""

    parsed: ParsedSource
    expected: int
    texts: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    embedded_here: int = 0  # passages the driver had to embed (see the module's notes)

    @property
    def complete(self) -> bool:
        return len(self.texts) == self.expected


def ingest_on_ray(
    ingestor: Ingestor,
    args: list[str],
    options: ClusterOptions,
    *,
    pdfs: bool = True,
    on_event: EventCallback | None = None,
) -> IngestReport:
    """Ingest files and URLs on a Ray cluster (arXiv ids and the PDFs digests link
    are fetched here, one request every 3 s as arXiv asks); never raises for bad input."""
    import_ray()  # a missing Ray is one line before anything else happens
    report = IngestReport()
    refs = resolve_refs(args)
    for bad in (r for r in refs if isinstance(r, IngestError)):
        outcome = SourceOutcome(ref=str(bad).split(":")[0], status="failed", error=str(bad))
        _add(report, outcome, on_event)
    sources = [r for r in refs if isinstance(r, SourceRef)]
    on_cluster = [r for r in sources if r.kind != "arxiv"]
    linked = _ingest_on_cluster(ingestor, on_cluster, options, report, on_event)
    arxiv = [f"{r.value}{r.version or ''}" for r in sources if r.kind == "arxiv"]
    if arxiv:
        report.outcomes += ingestor.ingest(arxiv, pdfs=False, on_event=on_event).outcomes
    if pdfs and linked:
        ingestor.follow_arxiv(linked, report, on_event)
    return report


def _ingest_on_cluster(
    ingestor: Ingestor,
    refs: list[SourceRef],
    options: ClusterOptions,
    report: IngestReport,
    on_event: EventCallback | None,
) -> list[str]:
    """Files and URLs through the pipeline; returns the arXiv ids their digests link."""
    if not refs:
        return []
    linked: list[str] = []
    shipped = redone = 0
    with ray_cluster(options) as cluster:
        for outcome, group in _run(ingestor, refs, cluster):
            _add(report, outcome, on_event)
            if group is None:
                continue
            shipped += len(group.texts)
            redone += group.embedded_here
            doc = group.parsed.doc
            if doc is not None and doc.kind == "digest":
                linked.extend(p.arxiv_id for p in doc.papers if p.arxiv_id)
    if redone:
        note = (
            f"{redone} of {shipped} passages were embedded again here: their paper's "
            "title changed during the run (an earlier source named it differently)"
        )
        report.notes.append(note)
        if on_event:
            on_event(note)
    return linked


def _run(ingestor: Ingestor, refs: list[SourceRef], cluster: Cluster):
    """(outcome, group) per source, in input order; a cluster failure mid-run
    fails the sources not yet written, with the reason, and ends the run."""
    written = 0
    try:
        for group in _groups(_pipeline(ingestor, refs, cluster).iter_rows(), ingestor):
            written += 1
            yield _write(ingestor, group), group
    except PaperlensError:
        raise
    except Exception as exc:  # a worker that died, a model missing on a node, ...
        reason = _reason(exc)
        for ref in refs[written:]:
            error = f"{ref.value}: the Ray pipeline stopped: {reason}"
            yield SourceOutcome(ref=ref.value, status="failed", error=error), None


def _pipeline(ingestor: Ingestor, refs: list[SourceRef], cluster: Cluster):
    ray = import_ray()
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # papers merge as in a plain ingest
    context.enable_progress_bars = ingestor.show_progress
    context.print_on_execution_start = False
    _quiet(ray)
    settings = ingestor.settings
    store = ingestor.store
    done = {s.uri: s.sha256 for s in store.sources() if s.status == "ok" and s.sha256}
    titles = {p.id: p.title for p in store.papers()}
    items = [{"i": i, "kind": r.kind, "value": r.value} for i, r in enumerate(refs)]
    return (
        ray.data.from_items(items, override_num_blocks=len(items))
        # Parsing is mostly one PDF child process per source; it takes no CPU slot
        # of its own so that the encoders can hold every core, and at most one
        # source per worker is parsed at a time.
        .flat_map(
            parse_source,
            fn_kwargs={"settings": settings, "done": done, "titles": titles},
            num_cpus=0,
            compute=ray.data.TaskPoolStrategy(size=cluster.workers),
        )
        .map_batches(
            PassageEncoder,
            fn_constructor_kwargs={"settings": settings},
            batch_size=max(1, settings.embed_batch_size),
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=cluster.workers),
            num_cpus=cluster.cpus_per_worker,
            num_gpus=cluster.gpus_per_worker or None,
        )
    )


def _quiet(ray) -> None:
    """Ray Data's INFO lines (plans, timings) go to its log files, not the terminal:
    the CLI prints one line per source."""
    import logging

    for handler in logging.getLogger("ray.data").handlers:
        if not hasattr(handler, "baseFilename"):
            handler.setLevel(logging.WARNING)


def _groups(rows: Iterable[dict], ingestor: Ingestor) -> Iterator[SourceGroup]:
    """Rows (in input order) -> one group per source, as soon as it is complete.

    The reranker's vectors are cached as they arrive, so a run stopped midway
    keeps what its workers computed."""
    group: SourceGroup | None = None
    for row in rows:
        if row["rerank"]:
            ingestor.store.cache_vectors(pickle.loads(row["rerank"]))
        if row["pos"] == SOURCE_ROW:
            group = SourceGroup(pickle.loads(row["payload"]), int(row["n"]))
        else:
            assert group is not None, "passage rows follow their source row"
            group.texts.append(ingestor.embedder.document(row["header"], row["text"]))
            group.vectors.append(np.frombuffer(row["vector"], dtype=np.float32))
        if group is not None and group.complete:
            yield group
            group = None


def _write(ingestor: Ingestor, group: SourceGroup) -> SourceOutcome:
    """One source into the catalog, as `Ingestor` does it for a plain ingest."""
    parsed, store = group.parsed, ingestor.store
    if parsed.status == "failed":
        store.record_failure(parsed.uri, parsed.ref.kind, parsed.error or "failed")
        return SourceOutcome(ref=parsed.ref.value, status="failed", error=parsed.error)
    if parsed.status == "parsed":
        if group.texts:
            ingestor.remember_vectors(group.texts, np.vstack(group.vectors))
        group.embedded_here = _embedded_here(ingestor, group)
        try:
            outcome = ingestor.ingest_doc(parsed.doc)
        except PaperlensError as exc:
            store.record_failure(parsed.uri, parsed.ref.kind, str(exc))
            return SourceOutcome(ref=parsed.ref.value, status="failed", error=str(exc))
        outcome.ref = parsed.ref.value
    else:
        outcome = SourceOutcome(ref=parsed.ref.value, status="unchanged", uri=parsed.uri)
    if parsed.ref.kind == "url":
        store.set_validators(parsed.uri, parsed.etag, parsed.last_modified, checked=False)
    return outcome


def _embedded_here(ingestor: Ingestor, group: SourceGroup) -> int:
    """Passages whose embed text, as the driver is about to write it, differs from the
    one the worker embedded (their paper's catalog title changed earlier in the run)."""
    if group.parsed.doc is None:
        return 0
    known = ingestor.store.paper
    passages = doc_passages(
        group.parsed.doc, ingestor.settings, lambda pid: (p := known(pid)) and p.title
    )
    shipped = set(group.texts)
    document = ingestor.embedder.document
    return sum(document(p.header, p.text) not in shipped for p in passages)


def _reason(exc: BaseException) -> str:
    """The root error inside Ray's wrapping (a worker's traceback ends with it)."""
    text = ANSI.sub("", str(exc))
    causes = ERROR_LINE.findall(text)
    if causes:
        name, message = causes[-1]
        return f"{name}: {message}"[:300]
    return (text.strip() or type(exc).__name__).splitlines()[0][:300]


def _add(report: IngestReport, outcome: SourceOutcome, on_event: EventCallback | None) -> None:
    report.outcomes.append(outcome)
    if on_event:
        on_event(describe(outcome))
