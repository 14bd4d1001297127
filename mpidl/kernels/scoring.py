"""Batch scoring: the test-time network over many rows, parallel over rows.

Test time means no dropout masks; hidden *WithDropout layers scale their activations by
``1 - ratio`` and the input by ``1 - input_dropout_ratio`` (the weight-scaling rule).
"""

import numpy as np
from numba import njit, prange

from .fpmode import denormals_off, restore
from .online import forward, layer_offsets, set_input


@njit(cache=True, parallel=True, error_model="numpy")
def predict_rows(buf, units, mult, woff, boff, act, out_kind, ratios, input_dropout,
                 num_start, nums, cats, nthreads):
    """Network outputs for every row: float64[n, units[-1]] (probabilities or link-space f).

    nums: float32[n, n_num] transformed numerics; cats: int32[n, n_cat] one-hot slots or -1.
    """
    n = nums.shape[0]
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
                    aoff, zoff, True, False, state)
            for k in range(n_out):
                out[row, k] = a[aoff[nl] + k]
        restore(fpmode)
    return out
