"""What a Ray cluster's workers run for `ingest --ray`: no catalog, no store.

Two stages of the pipeline (index/ray_ingest.py builds it):
- `parse_source` (a task per source): ref -> bytes -> SourceDoc -> passages, one
  "source row" carrying the parsed source, then one row per passage.
- `PassageEncoder` (an actor pool): passage rows -> first-stage vectors and the
  reranker's vectors, with each model loaded once per worker.

The driver writes what comes back through the same store path as a plain ingest.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from paperlens.index.embeddings import make_embedder
from paperlens.index.focus import FocusSettings, with_read_forms
from paperlens.index.ingestion import doc_passages
from paperlens.index.rerank import Candidate, make_reranker
from paperlens.ingest.config import Settings
from paperlens.ingest.documents import SourceDoc
from paperlens.ingest.errors import PaperlensError
from paperlens.ingest.sources import RawSource, SourceRef, load_file, load_url, parse_raw

SOURCE_ROW = -1  # `pos` of the row that carries a source (its passages count from 0)


@dataclass
class ParsedSource:
    """One source as a worker left it: parsed, unchanged since the catalog's copy, or failed."""

    ref: SourceRef
    status: Literal["parsed", "unchanged", "failed"]
    uri: str
    doc: SourceDoc | None = None
    error: str | None = None
    etag: str | None = None  # HTTP validators of a URL source, kept for `refresh`
    last_modified: str | None = None


def parse_source(
    row: dict, *, settings: Settings, done: dict[str, str], titles: dict[str, str]
) -> Iterator[dict]:
    """A source row, then its passages. `done`: sha256 of every source the catalog holds
    (status ok) by URI, to skip unchanged ones; `titles`: catalog titles by paper id,
    for the passages' headers."""
    ref = SourceRef(row["kind"], row["value"])
    parsed = load_and_parse(ref, settings, done)
    passages = doc_passages(parsed.doc, settings, titles.get) if parsed.doc else []
    yield _row(row["i"], SOURCE_ROW, len(passages), payload=pickle.dumps(parsed))
    for pos, passage in enumerate(passages):
        yield _row(row["i"], pos, len(passages), header=passage.header, text=passage.text)


def load_and_parse(ref: SourceRef, settings: Settings, done: dict[str, str]) -> ParsedSource:
    """Never raises: a broken source is a failed ParsedSource, the run goes on."""
    uri = str(Path(ref.value).resolve()) if ref.kind == "file" else ref.value
    try:
        raw = _load(ref, settings)
        validators = {"etag": raw.etag, "last_modified": raw.last_modified}
        if done.get(raw.uri) == raw.sha256:
            return ParsedSource(ref, "unchanged", raw.uri, **validators)
        return ParsedSource(ref, "parsed", raw.uri, doc=parse_raw(raw, settings), **validators)
    except PaperlensError as exc:
        return ParsedSource(ref, "failed", uri, error=str(exc))
    except Exception as exc:  # a parser bug must not end a cluster-wide run
        return ParsedSource(ref, "failed", uri, error=f"{uri}: {type(exc).__name__}: {exc}")


def _load(ref: SourceRef, settings: Settings) -> RawSource:
    if ref.kind == "file":
        return load_file(Path(ref.value), settings)
    return load_url(ref.value, settings)


def _row(i: int, pos: int, n: int, *, header="", text="", payload=b"") -> dict:
    return {"i": i, "pos": pos, "n": n, "header": header, "text": text, "payload": payload}


class PassageEncoder:
    """Loads the embedding model (and the reranker, when one is configured) once per
    worker; each batch of rows gains `vector` (float32 bytes; empty on source rows)
    and `rerank` (the reranker's pickled (cache key, vector) pairs, on the batch's
    first row), which the driver puts in the catalog's embedding cache."""

    def __init__(self, settings: Settings) -> None:
        self.embedder = make_embedder(settings)
        self.rerank_vectors = CollectedVectors()
        self.reranker = make_reranker(settings, self.rerank_vectors)
        self.focus = FocusSettings(table_row_names=settings.focus_table_row_names)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = [i for i, pos in enumerate(batch["pos"]) if pos != SOURCE_ROW]
        headers = [str(batch["header"][i]) for i in rows]
        texts = [str(batch["text"][i]) for i in rows]
        vectors = [b""] * len(batch["pos"])
        if rows:
            embedded = self.embedder.embed_passages(
                [self.embedder.document(h, t) for h, t in zip(headers, texts, strict=True)]
            )
            for i, vector in zip(rows, embedded, strict=True):
                vectors[i] = np.asarray(vector, dtype=np.float32).tobytes()
        rerank = [b""] * len(batch["pos"])
        if rows and self.reranker is not None:
            self.rerank_vectors.items.clear()
            pairs = enumerate(zip(headers, texts, strict=True))
            candidates = [Candidate(n, header, text) for n, (header, text) in pairs]
            self.reranker.prepare(with_read_forms(candidates, self.focus))
            rerank[0] = pickle.dumps(self.rerank_vectors.items)
        return {**batch, "vector": _objects(vectors), "rerank": _objects(rerank)}


class CollectedVectors:
    """A reranker's vector cache that remembers nothing and keeps what it is given,
    so the worker computes every vector and hands them all to the driver."""

    def __init__(self) -> None:
        self.items: list[tuple[str, np.ndarray]] = []

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        return {}

    def cache_vectors(self, items) -> None:
        self.items.extend(items)


def _objects(values: Sequence[bytes]) -> np.ndarray:
    column = np.empty(len(values), dtype=object)
    column[:] = list(values)
    return column
