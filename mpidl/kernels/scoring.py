"""Batch scoring: the test-time network over many rows, parallel over rows.

Test time means no dropout masks; hidden *WithDropout layers scale their activations by
``1 - ratio`` and the input by ``1 - input_dropout_ratio`` (the weight-scaling rule).
Two paths with the same results up to float rounding: ``predict_rows`` (one row at a time,
skipping zero activations; cheapest for small nets) and ``predict_blocks`` (matrix products
over blocks of rows; much faster on wide layers).
"""

import numpy as np
from numba import njit, prange

from .fpmode import denormals_off, restore
from .minibatch import (NO_STREAMS, add_bias_activate, assemble_input, layer_views,
                        output_activation)
from .numerics import row_count
from .forward import forward, layer_offsets, set_input
from .pool import run_slices


@njit(cache=True, parallel=True, error_model="numpy")
def predict_rows(net, buf, input_dropout, num_start, nums, cats, nthreads):
    """Network outputs for every row: float64[n, units[-1]] (probabilities or link-space f).

    net: ``bundles.Net``; nums: the numerics in either form of ``numerics.py`` (the first at
    input unit ``num_start``); cats: int32[n, n_cat] one-hot slots or -1.
    """
    units, mult, woff, boff, act, out_kind, ratios = net
    n = row_count(nums)
    nl = units.shape[0] - 1
    n_out = units[nl]
    out = np.empty((n, n_out), dtype=np.float64)
    aoff, zoff = layer_offsets(units, mult)
    scale_in = 1.0 - input_dropout
    for t in prange(nthreads):
        lo = n * t // nthreads
        hi = n * (t + 1) // nthreads
        a = np.zeros(aoff[nl + 1], dtype=buf.dtype)
        z = np.zeros(zoff[nl], dtype=buf.dtype)
        keep = np.ones(aoff[nl + 1], dtype=np.uint8)
        nz = np.zeros(aoff[nl + 1], dtype=np.int64)
        nnz = np.zeros(nl + 1, dtype=np.int64)
        state = np.ones(1, dtype=np.uint64)
        fpmode = denormals_off()
        for row in range(lo, hi):
            nnz[0] = set_input(a[0:aoff[1]], nz[0:aoff[1]], nums, cats, row, num_start, True,
                               0.0, state)
            if scale_in != 1.0:
                for j in range(aoff[1]):
                    a[j] *= scale_in
            forward(buf, units, mult, woff, boff, act, out_kind, ratios, a, z, keep, nz, nnz,
                    aoff, zoff, True, False, state, False)
            for k in range(n_out):
                out[row, k] = a[aoff[nl] + k]
        restore(fpmode)
    return out


def _predict_slice(out, net, buf, input_dropout, num_start, nums, cats, lo, hi, block):
    """Rows [lo, hi) of ``predict_blocks`` into ``out``, ``block`` rows per product."""
    units, mult, woff, boff, act, out_kind, ratios = net
    units = [int(u) for u in units]
    nl = len(units) - 1
    weights, biases = layer_views(buf, units, mult, woff, boff)
    n_z = [w.shape[1] for w in weights]
    a = [np.zeros((block, int(u)), buf.dtype) for u in units]
    z = [np.zeros((block, n), buf.dtype) for n in n_z]
    keep = np.ones((1, 1), np.uint8)
    state = np.ones(1, np.uint64)
    rows = np.arange(row_count(nums), dtype=np.int64)
    mode = denormals_off()
    try:
        for s in range(lo, hi, block):
            b = min(block, hi - s)
            assemble_input(a[0][:b], nums, cats, rows, s, num_start, 0.0, state)
            if input_dropout > 0.0:
                a[0][:b] *= 1.0 - input_dropout
            for l in range(nl):
                np.matmul(a[l][:b], weights[l], out=z[l][:b])
                if l < nl - 1:
                    add_bias_activate(z[l][:b], biases[l], a[l + 1][:b], keep, act, ratios[l],
                                      False, state, NO_STREAMS)
                else:
                    output_activation(z[l][:b], biases[l], a[nl][:b], out_kind, act)
            out[s:s + b] = a[nl][:b]
    finally:
        restore(mode)


def predict_blocks(net, buf, input_dropout, num_start, nums, cats, nthreads, block=256):
    """Test-time network outputs float64[n, units[-1]], ``block`` rows per matrix product.

    The dense counterpart of ``scoring.predict_rows`` (same arguments and results up to
    float rounding), much faster on wide layers; threads take contiguous row ranges.
    """
    n = row_count(nums)
    out = np.empty((n, int(net.units[-1])), dtype=np.float64)
    args = (out, net, buf, input_dropout, num_start, nums, cats)
    nthreads = max(1, min(nthreads, -(-n // block)))
    run_slices(lambda t, lo, hi: _predict_slice(*args, lo, hi, block), nthreads, n)
    return out
