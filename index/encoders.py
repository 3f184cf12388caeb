"""Text encoders for the bundled EmbeddingGemma (and any sentence-transformers model).

One seam, two runtimes: ONNX Runtime (index/gemma_onnx.py; int8 where the
CPU has VNNI/AMX, else float32) and PyTorch through sentence-transformers
(bfloat16 where the CPU computes it natively, else float32). Both return
L2-normalized vectors of the model's full dimension, and they agree to a
cosine of ~0.99, so a library embedded on one runtime is searched on the other.

EmbeddingGemma serves both search stages (the first stage reads the first 256
dimensions of its Matryoshka vectors, the reranker all 768), so one encoder is
shared per process (`gemma_encoder`) and remembers its most recent vectors:
the reranker asking for a passage the first stage has just embedded, or for
the query the first stage has just read, costs a lookup, not a second pass.

The shared encoder embeds passages on ONNX Runtime when the export of the
bundled weights exists, else on PyTorch: a new install answers at once, and
the export (a few minutes, once) runs when an ingest is large enough to repay
it (`GemmaEncoder.speed_up`, docs/ingest-speed.md). Queries stay on PyTorch
while passages run on int8 (`query_runtime`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from paperlens.index.bundled_models import gemma_path
from paperlens.index.gemma_onnx import MessageCallback, choose_precision, ensure_exported, exported
from paperlens.ingest.config import Settings
from paperlens.ingest.errors import PaperlensError

ProgressCallback = Callable[[int], None]
BEST_BATCH = {"onnx": 16, "torch": 8}  # passages per forward pass (bench/bench_embed.py)
# ONNX Runtime also caps a batch's padded tokens (passages x the longest one's tokens):
# on long PDF passages 16 per batch ran at half the speed of 2-4, and short digest
# entries ran 1.4x faster at 4-5 than at 16 (docs/ingest-speed.md#batches).
ONNX_TOKEN_BUDGET = 512
GEMMA_DIM = 768
RECENT = 16_384  # vectors remembered (~50 MB at 768 dims): a large source's passages


class EncoderError(PaperlensError):
    """The embedding model or its runtime could not be loaded."""


class TextEncoder(Protocol):
    """What both search stages need from a model: normalized vectors of full dimension."""

    name: str  # the runtime and precision (for messages and benchmarks)
    dim: int
    prompts: dict[str, str]

    def encode(
        self, texts: Sequence[str], *, prompt: str = "", on_progress: ProgressCallback | None = None
    ) -> np.ndarray: ...

    def forget(self) -> None: ...


class _BatchedEncoder:
    """Length-sorted batches, de-duplicated texts and a memory of recent vectors;
    subclasses only run one batch (`_run`) and count tokens (`_lengths`)."""

    name: str
    dim: int
    prompts: dict[str, str]

    def __init__(self, batch_size: int, token_budget: int = 0) -> None:
        self.batch_size = max(1, batch_size)
        self.token_budget = token_budget  # 0: batches of batch_size, whatever their length
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the app searches from several threads

    def encode(
        self, texts: Sequence[str], *, prompt: str = "", on_progress: ProgressCallback | None = None
    ) -> np.ndarray:
        full = [prompt + t for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in dict.fromkeys(full):
                if (vector := self._recent.get(text)) is not None:
                    self._recent.move_to_end(text)
                    found[text] = vector
        missing = [t for t in dict.fromkeys(full) if t not in found]
        if missing:
            # Padding to a batch's longest text is wasted work: group similar lengths.
            lengths = self._lengths(missing)
            order = sorted(range(len(missing)), key=lambda i: lengths[i])
            for group in self._batches(order, lengths):
                batch = [missing[i] for i in group]
                fresh = dict(zip(batch, self._run(batch), strict=True))
                found.update(fresh)
                self._remember(fresh)
                if on_progress:
                    on_progress(len(batch))
        if not full:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([found[t] for t in full]).astype(np.float32)

    def _batches(self, order: list[int], lengths: list[int]) -> Iterator[list[int]]:
        """Consecutive runs of `order` (shortest first): at most batch_size texts,
        and under a token budget at most budget // (the longest one's tokens)."""
        batch: list[int] = []
        for i in order:
            full = len(batch) == self.batch_size
            if batch and (
                full or self.token_budget and (len(batch) + 1) * lengths[i] > self.token_budget
            ):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def forget(self) -> None:
        """Drop the remembered vectors (benchmarks time cold runs with it)."""
        with self._lock:
            self._recent.clear()

    def _remember(self, fresh: dict[str, np.ndarray]) -> None:
        with self._lock:
            for text, vector in fresh.items():
                self._recent[text] = np.asarray(vector, dtype=np.float32)
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)

    def _run(self, batch: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _lengths(self, texts: list[str]) -> list[int]:
        return [len(t) for t in texts]


class OnnxEncoder(_BatchedEncoder):
    """The bundled EmbeddingGemma through ONNX Runtime (exported on first use)."""

    def __init__(
        self,
        model_dir: Path,
        *,
        precision: str = "auto",
        batch_size: int = 16,
        token_budget: int = ONNX_TOKEN_BUDGET,
        on_message: MessageCallback | None = None,
    ) -> None:
        from paperlens.index.gemma_onnx import OnnxGemma

        super().__init__(batch_size, token_budget)
        chosen = choose_precision(precision)
        graph = ensure_exported(model_dir, chosen, on_message)
        self._runtime = OnnxGemma(graph, chosen)
        self.name = f"onnx-{chosen}"
        self.dim = 768
        self.prompts = _prompts(model_dir)

    def _run(self, batch: list[str]) -> np.ndarray:
        return self._runtime.encode(batch)

    def _lengths(self, texts: list[str]) -> list[int]:
        return self._runtime.token_counts(texts)


class TorchEncoder(_BatchedEncoder):
    """Any sentence-transformers model (hub name or local folder) in PyTorch."""

    def __init__(self, model: str, *, dtype: str = "float32", batch_size: int = 8) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        super().__init__(batch_size)
        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every CLI call
        try:
            self._model = SentenceTransformer(
                model, device="cpu", model_kwargs={"dtype": getattr(torch, dtype)}
            )
        except Exception as exc:  # bad path, hub unreachable, broken weights
            raise EncoderError(f"cannot load model {model!r}: {exc}") from exc
        self.name = "torch" if dtype == "float32" else f"torch-{dtype}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension  # sentence-transformers < 6
        )
        self.dim = int(get_dim())
        self.prompts = dict(self._model.prompts)

    def _run(self, batch: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            batch,
            prompt="",  # prompts are already in the texts
            batch_size=len(batch),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _prompts(model_dir: Path) -> dict[str, str]:
    try:
        config = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    except (OSError, ValueError):
        return {}
    return dict(config.get("prompts") or {})


class GemmaEncoder:
    """The bundled EmbeddingGemma on the fastest runtime that is ready.

    Passages run on ONNX Runtime when onnxruntime is installed and its export
    of the bundled weights exists; otherwise on PyTorch until `speed_up`
    exports and switches (the ingest calls it for a job large enough to repay
    the export).

    Queries (texts encoded with a prompt argument; passages carry their
    document prompt inside the text) run on PyTorch at `dtype` while passages
    run on ONNX int8 and `query_runtime` is "auto": a query is one short text
    per search, where int8's small error flipped near-ties at rank 1 (2 of 24
    dev queries) to save ~30 ms (docs/ingest-speed.md#per-token).

    Each runtime loads when first needed, so a process that only searches
    never loads the passages' one.
    """

    def __init__(
        self,
        folder: Path,
        *,
        runtime: str,
        precision: str,
        dtype: str,
        batch_size: int,
        query_runtime: str = "auto",
    ) -> None:
        self._folder = folder
        self._runtime = runtime
        self._precision = precision
        self._dtype = dtype
        self._batch_size = batch_size
        self._query_runtime = choose_query_runtime(query_runtime)
        self._lock = threading.Lock()
        onnx_ready = onnx_installed() and exported(folder, precision) is not None
        self._on_onnx = runtime == "onnx" or (runtime == "auto" and onnx_ready)
        self._inner: _BatchedEncoder | None = None  # the passages' runtime, once loaded
        self._queries: _BatchedEncoder | None = None  # the queries', when it differs
        self.dim = GEMMA_DIM
        self.prompts = _prompts(folder)

    @property
    def name(self) -> str:
        """The runtime passages are encoded on."""
        if self._on_onnx:
            return f"onnx-{self._precision}"
        return "torch" if self._dtype == "float32" else f"torch-{self._dtype}"

    @property
    def query_name(self) -> str:
        """The runtime queries are encoded on."""
        if self._query_runtime == "auto" and self.name == "onnx-int8":
            return "torch" if self._dtype == "float32" else f"torch-{self._dtype}"
        return self.name

    def encode(
        self, texts: Sequence[str], *, prompt: str = "", on_progress: ProgressCallback | None = None
    ) -> np.ndarray:
        runtime = self._query_encoder() if prompt else self.passage_encoder()
        return runtime.encode(texts, prompt=prompt, on_progress=on_progress)

    def forget(self) -> None:
        for runtime in (self._inner, self._queries):
            if runtime is not None:
                runtime.forget()

    def passage_encoder(self) -> _BatchedEncoder:
        """The passages' runtime, loaded (and for "onnx", exported) at first use."""
        with self._lock:
            if self._inner is None:
                self._inner = self._onnx() if self._on_onnx else self._torch()
            return self._inner

    def _query_encoder(self) -> _BatchedEncoder:
        if self.query_name == self.name:
            return self.passage_encoder()
        with self._lock:
            if self._queries is None:
                self._queries = self._torch()
            return self._queries

    def can_speed_up(self) -> bool:
        """True while on PyTorch with ONNX Runtime installed and allowed ("auto")."""
        return self._runtime == "auto" and not self._on_onnx and onnx_installed()

    def speed_up(self, on_message: MessageCallback | None = None) -> bool:
        """Export the model for ONNX Runtime (once, a few minutes) and switch to it.

        Returns whether the encoder switched. Vectors already computed stay
        valid: both runtimes give the same model's vectors (cosine ~0.99)."""
        with self._lock:
            if not self.can_speed_up():
                return False
            previous = self._inner
            self._inner = self._onnx(on_message)
            self._on_onnx = True
            if self._queries is None and self.query_name != self.name:
                self._queries = previous  # PyTorch at `dtype`: now the queries' runtime
            return True

    def _torch(self) -> TorchEncoder:
        batch_size = self._batch_size or BEST_BATCH["torch"]
        return TorchEncoder(str(self._folder), dtype=self._dtype, batch_size=batch_size)

    def _onnx(self, on_message: MessageCallback | None = None) -> OnnxEncoder:
        return OnnxEncoder(
            self._folder,
            precision=self._precision,
            batch_size=self._batch_size or BEST_BATCH["onnx"],
            # A batch size the user chose is kept as is.
            token_budget=0 if self._batch_size else ONNX_TOKEN_BUDGET,
            on_message=on_message,
        )


def onnx_installed() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def choose_runtime(setting: str) -> str:
    """Checks the setting: auto (ONNX Runtime once exported, PyTorch until then) | onnx | torch."""
    if setting not in ("auto", "onnx", "torch"):
        raise EncoderError(f"unknown model runtime {setting!r} (auto | onnx | torch)")
    return setting


def choose_query_runtime(setting: str) -> str:
    """Checks the setting: auto (PyTorch while passages run on ONNX int8) | same."""
    if setting not in ("auto", "same"):
        raise EncoderError(f"unknown query runtime {setting!r} (auto | same)")
    return setting


def torch_dtype(setting: str) -> str:
    """ "auto": bfloat16 where the CPU computes it natively (AVX-512 BF16 or AMX),
    1.7x the passages per second of float32 with vectors at cosine >= 0.997 of
    float32's; elsewhere bfloat16 is emulated and slower, so float32."""
    from paperlens.index.machine import cpu_flags

    if setting != "auto":
        if setting not in ("float32", "bfloat16"):
            raise EncoderError(f"unknown torch dtype {setting!r} (auto | float32 | bfloat16)")
        return setting
    flags = cpu_flags()
    return "bfloat16" if {"avx512_bf16", "amx_bf16"} & flags else "float32"


@lru_cache(maxsize=4)
def _shared_gemma(
    folder: Path, runtime: str, precision: str, dtype: str, batch_size: int, query_runtime: str
) -> GemmaEncoder:
    return GemmaEncoder(
        folder,
        runtime=runtime,
        precision=precision,
        dtype=dtype,
        batch_size=batch_size,
        query_runtime=query_runtime,
    )


def configured_gemma_encoder(settings: Settings) -> GemmaEncoder | None:
    """The shared EmbeddingGemma encoder as the settings configure it: the first stage
    and the reranker ask for it alike, so both get the same one."""
    return gemma_encoder(
        settings.models_dir,
        runtime=settings.model_runtime,
        precision=settings.onnx_precision,
        dtype=settings.rerank_dtype,
        batch_size=settings.gemma_batch_size,
        query_runtime=settings.query_runtime,
    )


def gemma_encoder(
    models_dir: Path | None,
    *,
    runtime: str = "auto",
    precision: str = "auto",
    dtype: str = "auto",
    batch_size: int = 0,
    query_runtime: str = "auto",
) -> GemmaEncoder | None:
    """The process's EmbeddingGemma encoder, or None when the model is not installed.

    `batch_size` 0: the best measured on 2 cores for the runtime (docs/ingest-speed.md).
    """
    folder = gemma_path(models_dir)
    if folder is None:
        return None
    chosen = choose_runtime(runtime)
    return _shared_gemma(
        folder, chosen, choose_precision(precision), torch_dtype(dtype), batch_size, query_runtime
    )
