"""EmbeddingGemma through ONNX Runtime, exported and quantized here, once.

PyTorch runs the bundled EmbeddingGemma-300m at a small fraction of what a
CPU can do (bfloat16: ~5 passages/s on 2 cores). ONNX Runtime's int8 kernels
use the CPU's dot-product instructions (AVX-512 VNNI, AVX-VNNI, AMX); with
int8 weights and activations quantized per token at run time
(index/int8_per_token.py) the same model runs faster than PyTorch's bfloat16,
with vectors at cosine ~0.999 of float32's (bench/bench_embed.py, docs/ingest-speed.md).

Nothing comes from a model hub: the graph is exported from the bundled
weights with `torch.onnx.export`, fused and quantized here,
and cached next to the weights (`<models>/embeddinggemma-300m-onnx/<precision>`).
Nothing exports at install: PyTorch serves the model until the first ingest
large enough to repay the export (`onnx_export_after` passages) runs it,
with messages on stderr; `python -m paperlens.index.gemma_onnx` runs it at any time.
Which precision runs is read
from the CPU at run time (int8 where it has VNNI or AMX, else float32), never
decided on the build machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from paperlens.index.machine import available_cores, available_memory, cpu_flags
from paperlens.ingest.errors import PaperlensError

EXPORT_FORMAT = 3  # bump when the exported graph changes: old exports are redone
COMPLETE = ".paperlens-complete"
OUTPUT = "sentence_embedding"
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")  # int8 dot products in hardware
MAX_TOKENS = 2048  # the model's max_seq_length (sentence_bert_config.json)
# The exporter peaked at 6.3 GB resident on 2026-12-02 (docs/ingest-speed.md): it
# runs in a child process, and only when this much memory is available.
EXPORT_MEMORY_BYTES = 7 * 2**30

MessageCallback = Callable[[str], None]
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.model",
    "added_tokens.json",
    "config_sentence_transformers.json",
)


class OnnxExportError(PaperlensError):
    """The ONNX export of the bundled model failed."""


def choose_precision(setting: str = "auto", flags: set[str] | None = None) -> str:
    """ "auto": int8 where the CPU has int8 dot-product instructions, else float32.

    Without VNNI, ONNX Runtime's int8 path multiplies u8 x s8 pairs with an
    instruction that saturates 16-bit sums, which costs accuracy, and the
    float32 kernels are about as fast there.
    """
    if setting != "auto":
        if setting not in ("int8", "float32"):
            raise OnnxExportError(f"unknown ONNX precision {setting!r} (auto | int8 | float32)")
        return setting
    flags = cpu_flags() if flags is None else flags
    return "int8" if any(f in flags for f in INT8_FLAGS) else "float32"


def export_dir(model_dir: Path, precision: str) -> Path:
    return model_dir.parent / f"{model_dir.name}-onnx" / f"{precision}-v{EXPORT_FORMAT}"


def exported(model_dir: Path, precision: str) -> Path | None:
    """The cached graph for this precision, or None when it was never (fully) exported."""
    folder = export_dir(model_dir, precision)
    return folder / "model.onnx" if (folder / COMPLETE).exists() else None


def ensure_exported(
    model_dir: Path, precision: str, on_message: MessageCallback | None = None
) -> Path:
    """The cached graph, exported first when missing, in a child process: the
    exporter's memory peak (several GB) never lands in the app's or the CLI's
    process, and a machine without that memory free is told so and keeps PyTorch."""
    if found := exported(model_dir, precision):
        return found
    say = on_message or (lambda line: print(line, file=sys.stderr, flush=True))
    check_export_memory()
    command = [sys.executable, "-m", "paperlens.index.gemma_onnx", "--model-dir", str(model_dir)]
    with subprocess.Popen(
        [*command, "--precision", precision],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        last = ""
        for line in child.stdout or ():
            if line.startswith("paperlens:"):
                say(line.rstrip())
            last = line.strip() or last
    if child.returncode != 0 or not (found := exported(model_dir, precision)):
        raise OnnxExportError(f"could not export EmbeddingGemma to ONNX: {last}")
    return found


def remove_stale_exports(model_dir: Path, precision: str) -> list[Path]:
    """Delete this precision's exports of older formats (about 1 GB each): the
    current one has replaced them. Returns what was removed."""
    folders = export_dir(model_dir, precision).parent.glob(f"{precision}-v*")
    versions = {folder: folder.name.removeprefix(f"{precision}-v") for folder in folders}
    stale = [f for f, v in versions.items() if v.isdigit() and int(v) < EXPORT_FORMAT]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def check_export_memory() -> None:
    available = available_memory()
    if available is not None and available < EXPORT_MEMORY_BYTES:
        raise OnnxExportError(
            f"exporting EmbeddingGemma to ONNX needs ~{EXPORT_MEMORY_BYTES / 2**30:.0f} GB of "
            f"free memory and {available / 2**30:.1f} GB is available"
        )


def export(model_dir: Path, precision: str, say: MessageCallback) -> Path:
    """Export (and quantize) in this process. Atomic: everything is written in a
    temp folder renamed into place, so an interrupted export leaves nothing that
    looks finished."""
    if found := exported(model_dir, precision):
        return found
    target = export_dir(model_dir, precision)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say(
        f"paperlens: preparing EmbeddingGemma for ONNX Runtime ({precision}), once: "
        "exporting the bundled weights, ~2-4 min..."
    )
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
            work = Path(tmp)
            graph = _export_float32(model_dir, work / "float32")
            say("paperlens: fusing normalization and activation steps...")
            graph = fuse(graph, work / "fused")
            if precision == "int8":
                say("paperlens: quantizing the matrix products to int8...")
                graph = _quantize_int8(graph, work / "int8")
            final = graph.parent
            for written in final.iterdir():  # the quantizer writes 0600: the venv is shared
                written.chmod(0o644)
            (final / COMPLETE).write_text(f"EmbeddingGemma-300m ONNX {precision}\n")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(final, target)
        remove_stale_exports(model_dir, precision)
    except PaperlensError:
        raise
    except Exception as exc:  # exporter or quantizer failure: say what, keep no half-export
        raise OnnxExportError(f"could not export EmbeddingGemma to ONNX: {exc}") from exc
    say(f"paperlens: EmbeddingGemma ONNX ({precision}) ready in {time.monotonic() - started:.0f} s")
    return target / "model.onnx"


def _export_float32(model_dir: Path, folder: Path) -> Path:
    """The whole sentence-transformers pipeline (transformer, mean pooling, the two
    dense layers, L2 normalization) as one graph: ids + mask -> unit vectors."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"dtype": torch.float32})
    pipeline = _Pipeline(model).eval()
    texts = ["title: none | text: a sample", "b"]
    sample = model.tokenizer(texts, padding=True, return_tensors="pt")
    batch = torch.export.Dim("batch", min=1, max=1024)
    tokens = torch.export.Dim("tokens", min=2, max=MAX_TOKENS)
    folder.mkdir(parents=True)
    path = folder / "model.onnx"
    with torch.no_grad():
        torch.onnx.export(
            pipeline,
            (sample["input_ids"], sample["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=[OUTPUT],
            dynamic_shapes={
                "input_ids": {0: batch, 1: tokens},
                "attention_mask": {0: batch, 1: tokens},
            },
            dynamo=True,
            external_data=True,
            verbose=False,
        )
    for name in TOKENIZER_FILES:
        if (model_dir / name).exists():
            shutil.copy2(model_dir / name, folder / name)
    return path


def _quantize_int8(graph: Path, folder: Path) -> Path:
    from paperlens.index.int8_per_token import quantize_per_token

    path = quantize_per_token(graph, folder)
    shutil.rmtree(graph.parent)  # the float32 graph is 1.2 GB: keep only what runs
    return path


def fuse(graph: Path, folder: Path) -> Path:
    """ONNX Runtime's transformer fusions: each RMS normalization (6 elementwise
    steps) and each tanh-GELU (5) become one kernel. Elementwise steps were a
    quarter of the int8 model's time; fused, it ran 1.4x faster with the same
    vectors (docs/ingest-speed.md). Runs on the float32 graph, before quantization."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)  # shape-inference chatter
    model = optimizer.optimize_model(
        str(graph),
        model_type="bert",  # its generic fusions; num_heads/hidden_size 0 = read from the graph
        num_heads=0,
        hidden_size=0,
        optimization_options=FusionOptions("bert"),
        opt_level=0,  # ONNX Runtime's own graph optimizations run when the session loads
    )
    folder.mkdir(parents=True)
    path = folder / "model.onnx"
    model.save_model_to_file(str(path), use_external_data_format=True)
    for extra in graph.parent.iterdir():
        if not extra.name.startswith("model.onnx"):
            shutil.copy2(extra, folder / extra.name)
    shutil.rmtree(graph.parent)
    return path


class _Pipeline:
    """Built lazily so importing this module never imports torch."""

    def __new__(cls, model):  # noqa: D102 - a torch.nn.Module factory
        import torch

        class Pipeline(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.transformer = model[0].auto_model
                self.dense = torch.nn.Sequential(model[2].linear, model[3].linear)

            def forward(self, input_ids, attention_mask):
                hidden = self.transformer(
                    input_ids=input_ids, attention_mask=attention_mask
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(self.dense(pooled), dim=-1)

        return Pipeline()


class OnnxGemma:
    """Texts -> L2-normalized 768-d vectors with the exported graph."""

    def __init__(self, graph: Path, precision: str, threads: int | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or available_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = AutoTokenizer.from_pretrained(str(graph.parent))
        self.precision = precision

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        encoded = self._tokenizer(list(texts), truncation=True, max_length=MAX_TOKENS)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One batch (the caller sizes and sorts batches)."""
        if not texts:
            return np.zeros((0, 768), dtype=np.float32)
        batch = self._tokenizer(
            list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np"
        )
        feeds = {
            "input_ids": batch["input_ids"].astype(np.int64),
            "attention_mask": batch["attention_mask"].astype(np.int64),
        }
        return np.asarray(self._session.run([OUTPUT], feeds)[0], dtype=np.float32)


def main() -> None:
    """`python -m paperlens.index.gemma_onnx [--precision P]`: export ahead of time (also the
    child process `ensure_exported` runs)."""
    from paperlens.index.bundled_models import gemma_path

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--precision", default="auto")
    args = parser.parse_args()
    folder = args.model_dir or gemma_path()
    if folder is None:
        sys.exit(
            "EmbeddingGemma is not installed: run `python -m paperlens.index.bundled_models` first"
        )
    try:
        print(export(folder, choose_precision(args.precision), lambda m: print(m, flush=True)))
    except PaperlensError as exc:
        sys.exit(f"paperlens: {exc}")


if __name__ == "__main__":
    main()
