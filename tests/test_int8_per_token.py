"""The per-token int8 rewrite on small graphs, run by ONNX Runtime for real."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from paperlens.index.int8_per_token import quantize_per_token

WIDTH, OUT = 64, 48


@pytest.fixture(scope="module")
def graphs(tmp_path_factory) -> tuple[Path, Path]:
    """(float32, rewritten): y = x @ W1 + x @ W2, then z = y @ y^T (two activations)."""
    rng = np.random.default_rng(7)
    w1 = numpy_helper.from_array(rng.normal(size=(WIDTH, OUT)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(size=(WIDTH, OUT)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["a"], name="first"),
        helper.make_node("MatMul", ["x", "w2"], ["b"], name="second"),
        helper.make_node("Add", ["a", "b"], ["y"]),
        helper.make_node("Transpose", ["y"], ["yt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["y", "yt"], ["z"], name="gram"),
    ]
    graph = helper.make_graph(
        nodes,
        "two-products",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, WIDTH])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, OUT]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, None, None]),
        ],
        [w1, w2],
    )
    folder = tmp_path_factory.mktemp("float32")
    source = folder / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), source)
    (folder / "tokenizer.json").write_text("{}")
    target = tmp_path_factory.mktemp("rewritten") / "int8"
    rewritten = quantize_per_token(source, target)
    assert (target / "tokenizer.json").exists()  # what sits beside the graph travels with it
    return source, rewritten


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _tokens(rng: np.random.Generator, count: int, size: float = 1.0) -> np.ndarray:
    return (size * rng.normal(size=(1, count, WIDTH))).astype(np.float32)


def test_constant_weights_become_int8_and_other_products_stay_float(graphs):
    kinds = [node.op_type for node in onnx.load(str(graphs[1])).graph.node]
    assert kinds.count("MatMulIntegerToFloat") == 2
    assert kinds.count("QuantizeLinear") == 1  # x is quantized once for both products
    assert kinds.count("MatMul") == 1  # y @ y^T has no constant weight


def test_each_token_keeps_its_own_precision_beside_a_huge_one(graphs):
    reference, rewritten = (_session(path) for path in graphs)
    rng = np.random.default_rng(11)
    x = np.concatenate([_tokens(rng, 1, size=1000.0), _tokens(rng, 9)], axis=1)
    want = reference.run(["y"], {"x": x})[0]
    got = rewritten.run(["y"], {"x": x})[0]
    for token in range(10):  # one batch-wide scale would flatten the 9 small tokens to ~0
        error = np.linalg.norm(got[0, token] - want[0, token]) / np.linalg.norm(want[0, token])
        assert error < 0.02, (token, error)


def test_a_token_s_output_does_not_depend_on_its_batch_companions(graphs):
    rewritten = _session(graphs[1])
    rng = np.random.default_rng(5)
    ordinary = _tokens(rng, 6)
    companions = _tokens(rng, 6, size=500.0)
    alone = rewritten.run(["y"], {"x": ordinary})[0]
    together = rewritten.run(["y"], {"x": np.concatenate([ordinary, companions])})[0]
    np.testing.assert_allclose(together[:1], alone, rtol=1e-6, atol=1e-6)
