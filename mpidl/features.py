"""``mpidl features MODEL DATA --layer K -o OUT.csv``: the activations of hidden layer K
(1 = the first) of any model, H2O's ``deepfeatures`` (spec 11): the test-time network (no
dropout masks, *WithDropout layers scaled by 1 - ratio, as scoring), columns
``DF.L{K}.C{j}`` (j from 1).  Each rank computes its block of rows; rank 0 writes them in
row order."""

from __future__ import annotations

import numpy as np

from .errors import UserError
from .kernels.minibatch import NO_STREAMS, add_bias_activate, assemble_input, layer_views
from .predict import matrix_csv, transformed_block, write_blocks


def check_layer(model, layer: int, path: str) -> None:
    """UserError unless 1 <= ``layer`` <= the model's number of hidden layers."""
    hidden = len(model.params.hidden)
    if not 1 <= layer <= hidden:
        raise UserError(f"--layer {layer}: {path} has {hidden} hidden layer(s); use 1 to "
                        f"{hidden}")


def hidden_activations(model, nums, cats, layer: int) -> np.ndarray:
    """float64[n, hidden[layer-1]]: hidden layer ``layer``'s test-time activations."""
    units, mult, woff, boff, act, _, ratios = model.net_args()
    weights, biases = layer_views(model.buf, [int(u) for u in units], mult, woff, boff)
    n = nums.shape[0]
    a = np.zeros((n, int(units[0])), model.buf.dtype)
    state = np.ones(1, np.uint64)
    assemble_input(a, nums, cats, np.arange(n, dtype=np.int64), 0, model.dinfo.num_start,
                   0.0, state)
    a *= 1.0 - model.params.input_dropout_ratio   # as scoring (kernels/scoring.py)
    keep = np.ones((1, 1), np.uint8)
    for l in range(layer):
        z = a @ weights[l]
        a = np.zeros((n, int(units[l + 1])), model.buf.dtype)
        add_bias_activate(z, biases[l], a, keep, act, ratios[l], False, state, NO_STREAMS)
    return a.astype(np.float64)


def features_to_csv(model, data, layer: int, out_path: str, comm) -> int:
    """Write hidden layer ``layer``'s activations for every row of ``data`` to ``out_path``;
    returns the number of rows (on every rank)."""
    nums, cats, nrows = transformed_block(model, data, comm)
    values = hidden_activations(model, nums, cats, layer)
    names = [f"DF.L{layer}.C{j + 1}" for j in range(values.shape[1])]
    header, block = matrix_csv(names, values)
    write_blocks(out_path, header, block, comm)
    return int(nrows)
