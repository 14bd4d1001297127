"""``mpidl export MODEL --format onnx -o model.onnx``: the network as an ONNX graph.

The graph takes the preprocessed input ``input`` float32[N, input_width] (one-hot slots and
standardized numerics, as ``plan.describe`` documents them) and gives ``output``
float32[N, outputs]: class probabilities (softmax), the link-space regression output, or an
autoencoder's reconstruction in the normalized input space (then also ``reconstruction_mse``
float32[N, 1], H2O's ``Reconstruction.MSE``: the mean of (output - input)^2 over the slots).
Test-time dropout scaling is inside the graph; the preprocessing and the output rule (labels,
response units) are in the JSON written beside it (``STEM.preprocessing.json``).  Needs the
``[onnx]`` extra (``onnx``); opset 17.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..atomic import atomic_path
from ..errors import UserError
from .plan import describe, layer_arrays

OPSET = 17
IR_VERSION = 8


def _onnx():
    try:
        import onnx
    except ImportError:
        raise UserError("--format onnx needs the onnx package: pip install mpidl[onnx]") from None
    return onnx


def build_graph(model):
    """The ``onnx.ModelProto`` of ``model``'s test-time network."""
    onnx = _onnx()
    h, plan = onnx.helper, describe(model)
    nodes, inits = [], []

    def const(name, value):
        inits.append(onnx.numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def scale(x, factor, name):
        if factor == 1.0:
            return x
        nodes.append(h.make_node("Mul", [x, const(f"{name}_factor", factor)], [name]))
        return name

    a = scale("input", plan["input_scale"], "input_scaled")
    layers = layer_arrays(model)
    for i, (w, b) in enumerate(layers):
        nodes.append(h.make_node("MatMul", [a, const(f"W{i}", w)], [f"mm{i}"]))
        nodes.append(h.make_node("Add", [f"mm{i}", const(f"b{i}", b)], [f"z{i}"]))
        if i == len(layers) - 1:
            break
        a = _activation(onnx, nodes, inits, plan["hidden"][i], f"z{i}", i)
        a = scale(a, plan["hidden"][i]["scale"], f"a{i}_scaled")
    extra_outputs = _output_nodes(h, nodes, const, f"z{len(layers) - 1}", plan["output"])
    n_out = int(layers[-1][1].shape[0])
    graph = h.make_graph(
        nodes, f"mpidl_{model.model_id}",
        [h.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["N", plan["input_width"]])],
        [h.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["N", n_out])]
        + [h.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", 1])
           for name in extra_outputs], inits)
    proto = h.make_model(graph, producer_name="mpidl",
                         opset_imports=[h.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(proto)
    return proto


def _output_nodes(h, nodes, const, z, rule) -> list[str]:
    """Append the nodes from the last layer's pre-activations ``z`` to ``output`` by the
    plan's output ``rule``; returns the names of the graph's further outputs."""
    if rule["kind"] == "reconstruction":
        return _reconstruction(h, nodes, z, rule["activation"])
    if rule["kind"] == "softmax" and rule["class_factors"] is not None:
        _corrected_softmax(h, nodes, const, z, rule["class_factors"])
    elif rule["kind"] == "softmax":
        nodes.append(h.make_node("Softmax", [z], ["output"], axis=1))
    else:
        nodes.append(h.make_node("Identity", [z], ["output"]))
    return []


def _corrected_softmax(h, nodes, const, z, factors) -> None:
    """Append ``output`` = softmax(``z``) x ``factors``, renormalized per row (balance_classes'
    correction, ``model/class_dist.py``)."""
    nodes.append(h.make_node("Softmax", [z], ["probs"], axis=1))
    nodes.append(h.make_node("Mul", ["probs", const("class_factors", factors)], ["weighted"]))
    axes = h.make_tensor("sum_axes", 7, [1], [1])           # 7: INT64
    nodes.append(h.make_node("Constant", [], ["axes"], value=axes))
    nodes.append(h.make_node("ReduceSum", ["weighted", "axes"], ["total"], keepdims=1))
    nodes.append(h.make_node("Div", ["weighted", "total"], ["output"]))


def _reconstruction(h, nodes, z, activation) -> list[str]:
    """Append an autoencoder's ``output`` = ``activation``(``z``) and ``reconstruction_mse``
    = the row mean of (output - input)^2 (the clean input: no dropout scaling); returns the
    extra output's name."""
    nodes.append(h.make_node({"Rectifier": "Relu", "Tanh": "Tanh"}[activation], [z], ["output"]))
    nodes.append(h.make_node("Sub", ["output", "input"], ["reconstruction_error"]))
    nodes.append(h.make_node("Mul", ["reconstruction_error", "reconstruction_error"],
                             ["squared_error"]))
    nodes.append(h.make_node("ReduceMean", ["squared_error"], ["reconstruction_mse"], axes=[1],
                             keepdims=1))
    return ["reconstruction_mse"]


def _activation(onnx, nodes, inits, hidden, z, i) -> str:
    """Append hidden layer ``i``'s activation of ``z``; returns its output name."""
    h, out = onnx.helper, f"a{i}"
    if hidden["activation"] == "Rectifier":
        nodes.append(h.make_node("Relu", [z], [out]))
    elif hidden["activation"] == "Tanh":
        nodes.append(h.make_node("Tanh", [z], [out]))
    else:  # Maxout: [N, 2U] -> [N, U, 2] -> max over the two channels
        shape = f"maxout_shape{i}"
        inits.append(onnx.numpy_helper.from_array(np.array([0, hidden["units"], 2], np.int64), shape))
        nodes.append(h.make_node("Reshape", [z, shape], [f"{z}_pairs"]))
        nodes.append(h.make_node("ReduceMax", [f"{z}_pairs"], [out], axes=[2], keepdims=0))
    return out


def preprocessing_path(onnx_path: str) -> str:
    """Where the preprocessing JSON of ``onnx_path`` goes: ``STEM.preprocessing.json``."""
    stem = onnx_path[:-5] if onnx_path.endswith(".onnx") else onnx_path
    return stem + ".preprocessing.json"


def write_onnx(model, path: str, inputs=()) -> list[str]:
    """Write the graph to ``path`` and its preprocessing JSON beside it; returns both paths."""
    data = build_graph(model).SerializeToString()
    text = json.dumps(describe(model), indent=1, allow_nan=False) + "\n"
    side = preprocessing_path(os.fspath(path))
    with atomic_path(side, inputs) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
    with atomic_path(path, inputs) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return [os.fspath(path), side]
