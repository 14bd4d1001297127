"""Online (one row at a time) Hogwild training kernels, H2O's per-sample SGD (spec sections 3-5).

All arrays are plain numpy; nothing here imports the rest of the package.

Buffer layout (see ``model/network.py``): ``buf = [params | slot1 | slot2]`` with
``W_l`` in-major at ``woff[l]`` (shape ``units[l] x n_out_l``, ``n_out_l = mult[l]*units[l+1]``)
and ``b_l`` at ``boff[l]``.  ``buf`` is float32 in training, float64 for gradient checks; the
scratch vectors take the same dtype.

Per row: assemble the input (one-hot slots + numerics), draw dropout masks, forward pass
keeping the list of non-zero activations per layer (``forward.py``), output gradient, then backprop from the
output layer down, each layer updating its own weights at once while accumulating the error
of the layer below with the pre-update weights (as H2O does).  Hogwild: threads share ``buf``
and write it without locks; each thread owns its scratch and its row range.

fast_mode (H2O's default): a weight whose source activation is 0 is not touched, and a
destination unit whose gradient is 0 is not updated (ADADELTA state included).  The
destination loop is written branch-free (compute, then select) so it vectorizes.
"""

import numpy as np
from numba import njit, prange

from .codes import (
    F_EPS, F_FAST, F_L1, F_L2, F_LAM, F_MAXW2, F_NESTEROV, F_ONE, F_ONE_RHO, F_RHO, F_ZERO,
    ACT_MAXOUT, ACT_RELU, HP_FAST_MODE, HP_INPUT_DROPOUT, HP_NUM_START, HP_PROCESSED,
    HP_SAME_MASKS,
    OPT_ADADELTA, OPT_ADAM, OPT_MOMENTUM, OPT_PLAIN, OUT_AUTOENCODER, OUT_LINEAR, F_BETA1,
    F_ONE_BETA1, F_BETA2, F_ONE_BETA2,
)
from .fpmode import denormals_off, restore
from .forward import forward, layer_offsets, matrix, set_input
from .rng import seed_state
from .rules import (
    FASTMATH, adadelta, adadelta_bias, adam, elastic, hidden_slope_times, max_w2_rescale,
    maxout_winner, momentum, optimizer_width, output_gradient, reconstruction_gradient, regularized, running_activation, sparsity_bias_gradient,
    step_rates, typed_scalars,
)

_FM = FASTMATH


# How _update_rows picks its rows: the listed non-zero sources, every source, or the bias.
ROWS_LISTED, ROWS_ALL, ROWS_BIAS = 0, 1, 2


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _update_rows(w, s1, s2, c, mode, rows, count, a_src, keep, e_src, hidden_src, g, f, opt, lr,
                 mom, noshortcut, ea, fast, fed):
    """Update the rows of one layer's parameter matrix ``w`` (n_in x n_out; the bias vector is
    a 1 x n_out matrix) for the destination gradient ``g[n_out]``, with the optimizer ``opt``.

    ``s1``, ``s2``: its optimizer state, ``c``: the consensus (elastic averaging), all views of
    ``w``'s shape (unused slots may be ``w`` itself; ``c`` is read only when ``ea``).
    ``mode``: ROWS_LISTED updates the sources ``rows[:count]`` (non-zero activations
    ``a_src[j]``); ROWS_ALL visits every source j < ``count``, updating those with a non-zero
    activation (or all, when not ``fast``) and only propagating the error through the others;
    ROWS_BIAS updates row 0 with activation 1.  When ``hidden_src``, ``e_src[j]`` receives
    sum_k g_k w[j, k] with the pre-update weights (0 for a dropped unit, ``keep[j] == 0``).
    Under ADADELTA ``fed[k]`` gains the squared gradient of every weight of destination k
    updated (H2O's bias rule, ``_update_biases``); ROWS_BIAS leaves it alone.

    One call per layer and row, and no call inside: numba updates the reference count of every
    array passed to a function (inlined ones too), an atomic on a cache line that Hogwild
    threads share, which per weight row cost more than the update itself on small layers.
    """
    rho, one_rho, eps = f[F_RHO], f[F_ONE_RHO], f[F_EPS]
    b1, one_b1, b2, one_b2 = f[F_BETA1], f[F_ONE_BETA1], f[F_BETA2], f[F_ONE_BETA2]
    l1, l2, lam, zero = f[F_L1], f[F_L2], f[F_LAM], f[F_ZERO]
    nesterov = f[F_NESTEROV] != zero
    n = w.shape[1]
    for i in range(count):
        j = rows[i] if mode == ROWS_LISTED else (0 if mode == ROWS_BIAS else i)
        aj = f[F_ONE] if mode == ROWS_BIAS else a_src[j]
        acc = zero
        if aj == zero and fast:
            # not updated (fast_mode); only the error passes through
            if hidden_src and keep[j] != 0:
                for k in range(n):
                    acc += g[k] * w[j, k]
        elif opt == OPT_ADADELTA or opt == OPT_ADAM:
            # two state slots: (E[g^2], E[dx^2]) or (m, v); ``opt`` and ``ea`` are the same for
            # every k, so the compiler takes these branches out of the vectorized loop
            for k in range(n):
                wk, gk, t0, u0 = w[j, k], g[k], s1[j, k], s2[j, k]
                acc += gk * wk
                grad = regularized(gk * aj, wk, l1, l2, zero)
                if ea:
                    grad = elastic(grad, wk, c[j, k], lam)
                upd = (gk != zero) | noshortcut
                if opt == OPT_ADADELTA:
                    t1, u1, w1 = adadelta(wk, grad, t0, u0, rho, one_rho, eps)
                    if mode != ROWS_BIAS:
                        fed[k] += grad * grad if upd else zero
                else:
                    t1, u1, w1 = adam(wk, grad, t0, u0, lr, b1, one_b1, b2, one_b2, eps)
                s1[j, k], s2[j, k], w[j, k] = (t1, u1, w1) if upd else (t0, u0, wk)
        elif opt == OPT_MOMENTUM:
            for k in range(n):
                wk, gk, v0 = w[j, k], g[k], s1[j, k]
                acc += gk * wk
                grad = regularized(gk * aj, wk, l1, l2, zero)
                if ea:
                    grad = elastic(grad, wk, c[j, k], lam)
                v1, w1 = momentum(wk, grad, v0, lr, mom, nesterov)
                upd = (gk != zero) | noshortcut
                s1[j, k], w[j, k] = (v1, w1) if upd else (v0, wk)
        else:
            for k in range(n):
                wk, gk = w[j, k], g[k]
                acc += gk * wk
                grad = regularized(gk * aj, wk, l1, l2, zero)
                if ea:
                    grad = elastic(grad, wk, c[j, k], lam)
                upd = (gk != zero) | noshortcut
                w[j, k] = (wk - lr * grad) if upd else wk
        if hidden_src:
            e_src[j] = acc if keep[j] != 0 else zero


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _update_biases(b, s1, s2, c, g, fed, n_in, f, noshortcut, ea):
    """ADADELTA on one layer's biases ``b`` (a 1 x n_out matrix, state ``s1``, ``s2``,
    consensus ``c``) for the destination gradient ``g[n_out]``, by H2O's rule
    (``Neurons.update_bias``, spec 4.1): the state of unit k is fed ``fed[k] / n_in``, the sum
    of the squared gradients of its incoming weights updated in this row over all ``n_in``
    of them, and the step follows the bias's own regularized (and elastic) gradient.  As in
    H2O (``computeAdaDeltaRateForBias``) the step is computed in float64, with the float64
    approxSqrt, whatever the buffer's type.  A unit whose gradient is 0 is left alone under
    fast_mode's shortcut, as its weights are.
    """
    rho, one_rho, eps = np.float64(f[F_RHO]), np.float64(f[F_ONE_RHO]), np.float64(f[F_EPS])
    l1, l2, lam, zero = f[F_L1], f[F_L2], f[F_LAM], f[F_ZERO]
    for k in range(b.shape[1]):
        if g[k] == zero and not noshortcut:
            continue
        bk = b[0, k]
        grad = regularized(g[k], bk, l1, l2, zero)
        if ea:
            grad = elastic(grad, bk, c[0, k], lam)
        e1, d1, b1 = adadelta_bias(np.float64(bk), np.float64(grad), np.float64(fed[k]) / n_in,
                                   np.float64(s1[0, k]), np.float64(s2[0, k]), rho, one_rho,
                                   eps)
        s1[0, k], s2[0, k], b[0, k] = e1, d1, b1


@njit(inline="always", error_model="numpy")
def _slots(buf, center, ea, width, p, off, n_in, n_out):
    """(w, s1, s2, c): the (n_in x n_out) matrix at ``off`` in the parameter block of ``buf``,
    in its optimizer slots (``width`` blocks of ``p``; absent slots are ``w``) and in
    ``center``."""
    w = matrix(buf, off, n_in, n_out)
    s1 = matrix(buf, p + off, n_in, n_out) if width > 1 else w
    s2 = matrix(buf, 2 * p + off, n_in, n_out) if width > 2 else w
    # without elastic averaging ``center`` is a 1-element dummy, never read; a view of its
    # own memory keeps the loops free of a failing overlap check between ``w`` and ``c``
    c = matrix(center, off, n_in, n_out) if ea else matrix(center, 0, 1, 1)
    return w, s1, s2, c


@njit(cache=True, fastmath=_FM, error_model="numpy")
def backward(buf, center, units, mult, woff, boff, act, opt, f, lr_layer, mom,
             a, z, g, e, keep, nz, nnz, aoff, zoff, r2, sq, sparsity):
    """Backprop and update every layer, output first (spec 3.2-4.6).

    ``g[zoff[L-1]:]`` must hold the output gradient.  ``f``: typed scalars (see
    ``typed_scalars``); ``lr_layer[l]``: manual rate of weight layer l (unused under
    ADADELTA); ``mom``: current momentum.  ``center``: consensus buffer (elastic averaging) or
    a 1-element dummy.  ``sparsity``: (avg_act, hp, gb): an autoencoder's running mean
    activations (empty when sparsity_beta is 0), the hyper-parameters, and scratch for the
    hidden biases' gradient with the sparsity pull.  ``sq``: scratch of ``g``'s length for the
    squared weight gradients per destination unit (H2O's bias ADADELTA rule).
    """
    nl = units.shape[0] - 1
    width = optimizer_width(opt)
    n_params = buf.shape[0] // width
    ea = center.shape[0] > 1
    fast = f[F_FAST] != f[F_ZERO]
    noshortcut = not (fast or (opt == OPT_PLAIN and f[F_L1] == f[F_ZERO]
                               and f[F_L2] == f[F_ZERO]))
    max_w2 = f[F_MAXW2]
    for l in range(nl - 1, -1, -1):
        n_in = units[l]
        n_out = mult[l] * units[l + 1]
        fed = sq[:n_out]
        fed[:] = 0.0
        gl = g[zoff[l]:zoff[l] + n_out]
        al = a[aoff[l]:aoff[l + 1]]
        el = e[aoff[l]:aoff[l + 1]]
        kl = keep[aoff[l]:aoff[l + 1]]
        wo = woff[l]
        lr = lr_layer[l]
        w, s1, s2, c = _slots(buf, center, ea, width, n_params, wo, n_in, n_out)
        hidden_src = l > 0
        nzl = nz[aoff[l]:aoff[l + 1]]
        # the error is needed for every kept source unit whose derivative can be non-zero at a = 0
        if (not fast) or (hidden_src and act != ACT_RELU):
            _update_rows(w, s1, s2, c, ROWS_ALL, nzl, n_in, al, kl, el, hidden_src, gl, f, opt,
                         lr, mom, noshortcut, ea, fast, fed)
        else:
            if hidden_src:
                el[:] = 0.0
            _update_rows(w, s1, s2, c, ROWS_LISTED, nzl, nnz[l], al, kl, el, hidden_src, gl, f,
                         opt, lr, mom, noshortcut, ea, fast, fed)
        if max_w2 < 3.4e38:
            max_w2_rescale(buf, wo, n_in, n_out, gl, noshortcut, max_w2, r2)
        # biases: a row with source activation 1; under ADADELTA H2O's rule (the state fed
        # the mean g^2 of the unit's weights, spec 4.1)
        bw, bs1, bs2, bc = _slots(buf, center, ea, width, n_params, boff[l], 1, n_out)
        avg_act, hp, gb = sparsity
        gbias = gl
        if avg_act.shape[0] > 0 and l < nl - 1:
            gbias = gb[:n_out]
            sparsity_bias_gradient(gl, avg_act[aoff[l + 1] - aoff[1]:], gbias, n_out, hp)
        if opt == OPT_ADADELTA:
            _update_biases(bw, bs1, bs2, bc, gbias, fed, n_in, f, noshortcut, ea)
        else:
            _update_rows(bw, bs1, bs2, bc, ROWS_BIAS, nzl, 1, al, kl, el, False, gbias, f, opt,
                         lr, mom, noshortcut, ea, fast, fed)
        if hidden_src:
            # local gradient of the source hidden layer: g = e * act'(a)
            gp = g[zoff[l - 1]:zoff[l]]
            for j in range(n_in):
                if kl[j] == 0:
                    if act == ACT_MAXOUT:
                        gp[2 * j] = 0.0
                        gp[2 * j + 1] = 0.0
                    else:
                        gp[j] = 0.0
                elif act != ACT_MAXOUT:
                    gp[j] = hidden_slope_times(act, el[j], al[j])
                else:
                    zp = z[zoff[l - 1]:zoff[l]]
                    win = maxout_winner(zp[2 * j], zp[2 * j + 1])
                    gp[2 * j + win] = el[j]
                    gp[2 * j + 1 - win] = 0.0


@njit(cache=True, error_model="numpy")
def train_chunk(net, objective, buf, center, rows, order, start, stop, seed, stride):
    """Train rows ``order[start:stop]`` sequentially on the shared ``buf``; one Hogwild thread.

    ``net``, ``objective``, ``rows``: the bundles of ``bundles.py``; ``center``: consensus
    buffer (elastic averaging) or a 1-element dummy; ``seed``: this thread's stream seed;
    ``stride``: number of threads (for the annealing estimate of global progress).  Returns
    the number of rows processed.
    """
    units, mult, woff, boff, act, out_kind, ratios = net
    loss, opt, hp, avg_act = objective
    nums, cats, y, off = rows
    offset = off.shape[0] > 0 and out_kind == OUT_LINEAR
    nl = units.shape[0] - 1
    aoff, zoff = layer_offsets(units, mult)
    dt = buf.dtype
    a = np.zeros(aoff[nl + 1], dtype=dt)
    e = np.zeros(aoff[nl + 1], dtype=dt)
    z = np.zeros(zoff[nl], dtype=dt)
    g = np.zeros(zoff[nl], dtype=dt)
    r2 = np.zeros(zoff[nl], dtype=dt)
    sq = np.zeros(zoff[nl], dtype=dt)
    sparsity = (avg_act, hp, np.zeros(zoff[nl], dtype=dt))
    keep = np.ones(aoff[nl + 1], dtype=np.uint8)
    nz = np.zeros(aoff[nl + 1], dtype=np.int64)
    nnz = np.zeros(nl + 1, dtype=np.int64)
    target = np.zeros(units[0], dtype=dt)
    nz_target = np.zeros(units[0], dtype=np.int64)
    lr_layer = np.zeros(nl, dtype=dt)
    rates = np.zeros(nl, dtype=np.float64)
    mom = np.zeros(1, dtype=dt)
    f = typed_scalars(hp, buf)
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed_state(seed, 0)
    fast = hp[HP_FAST_MODE] != 0.0
    same_masks = hp[HP_SAME_MASKS] != 0.0
    num_start = int(hp[HP_NUM_START])
    processed0 = hp[HP_PROCESSED]
    out_lo = aoff[nl]
    n_out = mult[nl - 1] * units[nl]
    fpmode = denormals_off()
    for i in range(start, stop):
        row = order[i]
        if opt != OPT_ADADELTA:
            mom[0] = step_rates(hp, opt, nl, processed0 + (i - start) * stride, 1.0, rates, f)
            lr_layer[:] = rates
        nnz[0] = set_input(a[0:aoff[1]], nz[0:aoff[1]], nums, cats, row, num_start, fast,
                           hp[HP_INPUT_DROPOUT], state)
        forward(buf, units, mult, woff, boff, act, out_kind, ratios, a, z, keep, nz, nnz,
                aoff, zoff, fast, True, state, same_masks)
        if avg_act.shape[0] > 0:    # the hidden layers' running means (spec 4.5)
            running_activation(avg_act, a[aoff[1]:], aoff[nl] - aoff[1])
        if offset:
            a[out_lo] += off[row]
        if out_kind == OUT_AUTOENCODER:
            # the target: the clean input (H2O's _origa), set again without input dropout
            set_input(target, nz_target, nums, cats, row, num_start, fast, 0.0, state)
            reconstruction_gradient(a[out_lo:out_lo + n_out], target,
                                    g[zoff[nl - 1]:zoff[nl]], n_out, loss, hp)
        else:
            output_gradient(a[out_lo:out_lo + n_out], g[zoff[nl - 1]:zoff[nl]], n_out,
                            out_kind, loss, y[row], hp)
        backward(buf, center, units, mult, woff, boff, act, opt, f, lr_layer, mom[0],
                 a, z, g, e, keep, nz, nnz, aoff, zoff, r2, sq, sparsity)
    restore(fpmode)
    return stop - start


@njit(cache=True, error_model="numpy")
def train_hogwild(net, objective, buf, center, rows, order, nthreads, seeds):
    """Hogwild: ``nthreads`` threads each train a contiguous slice of ``order`` on shared ``buf``.

    Arguments as ``train_chunk``; seeds: int64[nthreads] per-thread RNG streams.  Returns rows
    processed (int64).  The rows go to the parallel loop one by one: numba's parallel loop
    cannot take a tuple (compact ``Numerics``) inside a tuple.
    """
    nums, cats, y, off = rows
    return _hogwild(net, objective, buf, center, nums, cats, y, off, order, nthreads, seeds)


@njit(cache=True, parallel=True, error_model="numpy")
def _hogwild(net, objective, buf, center, nums, cats, y, off, order, nthreads, seeds):
    """``train_hogwild``'s parallel loop, the rows' four parts as arguments."""
    n = order.shape[0]
    done = np.zeros(nthreads, dtype=np.int64)
    for t in prange(nthreads):
        lo = n * t // nthreads
        hi = n * (t + 1) // nthreads
        done[t] = train_chunk(net, objective, buf, center, (nums, cats, y, off), order, lo, hi,
                              seeds[t], nthreads)
    return done.sum()
