"""Int8 matrix products with one activation scale per token: an ONNX graph rewrite.

ONNX Runtime's dynamic quantization (`quantize_dynamic`) gives all the
activations of a batch one int8 scale, so a token with large values (and
EmbeddingGemma has them) coarsens every other token of every passage in the
batch: vectors at cosine 0.996 of float32's, and a few passages lost at rank 1.
One scale per token keeps each token's own resolution, makes a passage's
vector independent of its batch companions, and lets the MLP's down
projections run in int8 too (per batch they had to stay float32): cosine
0.9987 of float32's and 1.13x the speed (docs/ingest-speed.md).

Every MatMul whose second input is a constant 2-D weight W becomes

    s = max(|x|, last axis) / 127                        one scale per token
    q = QuantizeLinear(x / s, 1, 128)                    uint8 around 128
    y = MatMulIntegerToFloat(q, Wq, 1, w_scale, 128, 0) * s

with Wq, w_scale the weight quantized symmetrically per output column; x is
quantized once when several products read it (query, key and value).
Standard ONNX operators and ONNX Runtime's MatMulIntegerToFloat (the kernel
its own dynamic quantization uses) only: nothing compiled here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

INT8_MAX = 127.0
ZERO_POINT = 128  # symmetric values carried as uint8, the fast u8 x s8 kernels' layout
_SHARED = {  # constants every rewritten product uses
    "pt_inv_int8_max": np.array(1 / INT8_MAX, np.float32),
    "pt_tiny": np.array(1e-12, np.float32),  # an all-zero token keeps a usable scale
    "pt_one": np.array(1.0, np.float32),
    "pt_zero_point": np.array(ZERO_POINT, np.uint8),
    "pt_weight_zero_point": np.array(0, np.int8),
    "pt_last_axis": np.array([-1], np.int64),
}


def quantize_per_token(graph: Path, folder: Path) -> Path:
    """Rewrite the float32 graph at `graph` into `folder` (created; the files that
    sit beside the graph, such as the tokenizer's, are copied along)."""
    import onnx

    model = onnx.load(str(graph))
    _rewrite(model.graph)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    folder.mkdir(parents=True)
    path = folder / "model.onnx"
    onnx.save(model, str(path), save_as_external_data=True, location="model.onnx.data")
    for extra in graph.parent.iterdir():
        if extra.is_file() and not extra.name.startswith("model.onnx"):
            shutil.copy2(extra, folder / extra.name)
    return path


def _rewrite(graph) -> None:
    from onnx import numpy_helper

    weights = {init.name: init for init in graph.initializer}
    nodes, added, replaced = [], [], set()
    quantized: dict[str, tuple[str, str]] = {}  # activation -> (uint8 tensor, its scales)
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or len(weight.dims) != 2:
            nodes.append(node)
            continue
        name = node.name or node.output[0]
        q_weight, w_scale = _quantize_weight(numpy_helper.to_array(weight))
        added += [
            numpy_helper.from_array(q_weight, f"{name}_int8"),
            numpy_helper.from_array(w_scale, f"{name}_scale"),
        ]
        replaced.add(weight.name)
        source = node.input[0]
        if source not in quantized:
            quantized[source] = _quantize_activation(source, nodes)
        nodes += _product(name, *quantized[source], node.output[0])
    added += [numpy_helper.from_array(value, key) for key, value in _SHARED.items()]
    kept = [init for init in graph.initializer if init.name not in replaced]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + added)


def _quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weight and one float32 scale per output column (symmetric)."""
    weight = weight.astype(np.float32)
    scale = np.maximum(np.abs(weight).max(axis=0) / INT8_MAX, 1e-12).astype(np.float32)
    return np.clip(np.round(weight / scale), -INT8_MAX, INT8_MAX).astype(np.int8), scale


def _quantize_activation(source: str, nodes: list) -> tuple[str, str]:
    """Append the nodes that quantize `source` per token; (uint8 name, scale name)."""
    from onnx import helper

    p = f"{source}_per_token"
    nodes += [
        helper.make_node("Abs", [source], [f"{p}_abs"]),
        helper.make_node("ReduceMax", [f"{p}_abs", "pt_last_axis"], [f"{p}_max"], keepdims=1),
        helper.make_node("Mul", [f"{p}_max", "pt_inv_int8_max"], [f"{p}_raw_scale"]),
        helper.make_node("Max", [f"{p}_raw_scale", "pt_tiny"], [f"{p}_scale"]),
        helper.make_node("Div", [source, f"{p}_scale"], [f"{p}_scaled"]),
        helper.make_node("QuantizeLinear", [f"{p}_scaled", "pt_one", "pt_zero_point"], [f"{p}_u8"]),
    ]
    return f"{p}_u8", f"{p}_scale"


def _product(name: str, activation: str, scale: str, output: str) -> list:
    from onnx import helper

    inputs = [activation, f"{name}_int8", "pt_one", f"{name}_scale"]
    inputs += ["pt_zero_point", "pt_weight_zero_point"]
    return [
        helper.make_node(
            "MatMulIntegerToFloat", inputs, [f"{name}_unscaled"], domain="com.microsoft"
        ),
        helper.make_node("Mul", [f"{name}_unscaled", scale], [output]),
    ]
