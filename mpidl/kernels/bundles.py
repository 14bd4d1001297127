"""The kernels' arguments in three bundles, built once by the caller (numba takes them as
typed tuples, so a kernel call is one short line and a new field is one new name).

``Net``: the network, what training and scoring both need --
    units   int64[L+1]  units per layer, input first
    mult    int64[L]    pre-activations per destination unit (2 for Maxout hidden layers)
    woff    int64[L]    offset of W_l (in-major, units[l] x mult[l]*units[l+1]) in the buffer
    boff    int64[L]    offset of b_l
    act     int         hidden activation code (``codes.ACT_*``)
    out_kind int        ``codes.OUT_SOFTMAX`` or ``codes.OUT_LINEAR``
    ratios  float64[max(1, L-1)]  hidden dropout ratio per hidden layer
``Objective``: how training moves the weights --
    loss    int         ``codes.LOSS_*``
    opt     int         ``codes.OPT_*``
    hp      float64[HP_SIZE]  hyper-parameters (``codes.HP_*``)
    avg_act float64[sum of hidden units]  the autoencoder's running mean activation per
                        hidden unit (sparsity_beta > 0; updated in place), else empty
``Rows``: the training rows --
    nums    float32[n, n_num] or numerics.Numerics  transformed numerics (compact:
                               standardized as they are read)
    cats    int32[n, n_cat]    one-hot slot per categorical column, or -1
    y       float64[n]         response (class index, or standardized value)
    off     float64[n] or [0]  offset added to a linear output before the loss (output
                               units), or empty: no offset
"""

from collections import namedtuple

import numpy as np

NO_OFFSET = np.zeros(0, dtype=np.float64)

Net = namedtuple("Net", ["units", "mult", "woff", "boff", "act", "out_kind", "ratios"])
Objective = namedtuple("Objective", ["loss", "opt", "hp", "avg_act"],
                       defaults=(np.zeros(0),))
Rows = namedtuple("Rows", ["nums", "cats", "y", "off"], defaults=(NO_OFFSET,))
