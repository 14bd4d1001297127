"""The forward pass of one row (spec section 3): the input's activations, each layer's
pre-activations and activations with their dropout masks, the output; shared by online training
(``online.py``) and row-by-row scoring (``scoring.py``).

All arrays are plain numpy; nothing here imports the rest of the package.  Buffer layout as
``online.py`` describes it; ``fast_mode`` keeps the list of non-zero activations per layer
(``nz``) so the next layer reads only those.
"""

import numpy as np
from numba import njit

from .numerics import column_count, input_value
from .rng import next_float, row_stream
from .rules import FASTMATH, channels, hidden_value, output_values

_FM = FASTMATH


@njit(cache=True, error_model="numpy")
def layer_offsets(units, mult):
    """Scratch offsets: (aoff[L+2] into activations, zoff[L+2] into pre-activations)."""
    nl = units.shape[0] - 1
    aoff = np.zeros(nl + 2, dtype=np.int64)
    zoff = np.zeros(nl + 2, dtype=np.int64)
    for i in range(nl + 1):
        aoff[i + 1] = aoff[i] + units[i]
    for i in range(nl):
        zoff[i + 1] = zoff[i] + mult[i] * units[i + 1]
    return aoff, zoff


@njit(inline="always", error_model="numpy")
def matrix(buf, off, n_in, n_out):
    """The (n_in x n_out) in-major matrix stored at ``buf[off:]``, as a 2-D view (one per
    layer and row, never one per weight row: see ``_update_rows``)."""
    return buf[off:off + n_in * n_out].reshape((n_in, n_out))


@njit(cache=True, fastmath=_FM, error_model="numpy")
def set_input(a0, nz0, nums, cats, row, num_start, fast_mode, dropout, state):
    """Fill the input activations ``a0[units0]`` for ``row``; return the count of ``nz0``.

    ``cats[row, c]``: one-hot slot index or -1; numeric ``i`` of ``row`` (``nums``: either
    form of ``numerics.py``) goes to ``num_start + i``.
    ``nz0`` receives the indices of non-zero inputs (all indices when not fast_mode).
    Input dropout (ratio ``dropout``) zeroes each slot independently, without rescaling.
    """
    n0 = a0.shape[0]
    a0[:] = 0.0
    for c in range(cats.shape[1]):
        s = cats[row, c]
        if s >= 0:
            a0[s] += 1.0   # hashed slots add up (H2O)
    for i in range(column_count(nums)):
        a0[num_start + i] = input_value(nums, row, i)
    cnt = 0
    for j in range(n0):
        if a0[j] != 0.0 and dropout > 0.0:
            if next_float(state) < dropout:
                a0[j] = 0.0
        if a0[j] != 0.0 or not fast_mode:
            nz0[cnt] = j
            cnt += 1
    return cnt


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _forward_layer(w, b, a_src, nz_src, nnz, z):
    """z[n_out] = b + sum over non-zero sources j of a_src[j] * w[j, :] (``w``: the in-major
    weight matrix, units_in x n_out)."""
    z[:] = b
    for i in range(nnz):
        j = nz_src[i]
        v = a_src[j]
        for k in range(w.shape[1]):
            z[k] += v * w[j, k]


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _activate(z, a, keep, nz, units_out, act, ratio, fast_mode, train, state):
    """Hidden activation of one layer; returns the number of entries written to ``nz``.

    Training draws a dropout mask into ``keep`` (1 kept, 0 dropped; a dropped unit has
    activation 0).  Scoring scales activations by ``1 - ratio`` (weight-scaling rule).
    """
    cnt = 0
    c = channels(act)
    for k in range(units_out):
        kept = True
        if train and ratio > 0.0:
            kept = next_float(state) >= ratio
        keep[k] = 1 if kept else 0
        if not kept:
            a[k] = 0.0
            continue
        v = hidden_value(act, z[c * k], z[c * k + c - 1])
        if not train:
            v *= 1.0 - ratio
        a[k] = v
        if v != 0.0 or not fast_mode:
            nz[cnt] = k
            cnt += 1
    return cnt


@njit(cache=True, error_model="numpy")
def forward(buf, units, mult, woff, boff, act, out_kind, ratios, a, z, keep, nz, nnz,
            aoff, zoff, fast_mode, train, state, same_masks):
    """Forward pass of one row whose input is already in ``a[aoff[0]:aoff[1]]`` and ``nz``.

    ``nnz[0]`` holds the input's non-zero count; fills ``nnz[1..L]``.  Output probabilities
    (softmax), the linear output or the reconstruction land in ``a[aoff[L+1]:]``.
    ``same_masks`` (training): every hidden layer draws its dropout mask from the same stream,
    restarted per layer (H2O-3's one seed per row: equal-width layers drop the same units);
    the row then leaves ``state`` at a stream hashed from it, independent of the masks drawn.
    """
    nl = units.shape[0] - 1
    row_seed = state[0]
    for l in range(nl):
        if same_masks:
            state[0] = row_seed
        n_out = mult[l] * units[l + 1]
        zl = z[zoff[l]:zoff[l] + n_out]
        _forward_layer(matrix(buf, woff[l], units[l], n_out), buf[boff[l]:boff[l] + n_out],
                       a[aoff[l]:aoff[l + 1]], nz[aoff[l]:aoff[l + 1]], nnz[l], zl)
        if l < nl - 1:
            nnz[l + 1] = _activate(zl, a[aoff[l + 1]:aoff[l + 2]], keep[aoff[l + 1]:aoff[l + 2]],
                                   nz[aoff[l + 1]:aoff[l + 2]], units[l + 1], act, ratios[l],
                                   fast_mode, train, state)
        else:
            output_values(zl, a[aoff[l + 1]:aoff[l + 2]], n_out, out_kind, act)
    if same_masks:
        state[0] = row_stream(row_seed)
