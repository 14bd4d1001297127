"""Mini-batch Hogwild training (``mini_batch_size`` B > 1): BLAS-3 forward and backward passes.

Each of T threads trains its contiguous slice of ``order`` in batches of B rows, on the shared
buffer, without locks (Hogwild).  Per batch and weight layer l (W_l in-major, ``units[l] x
n_out_l``, so ``Z = A W`` needs no transpose):

    forward    Z_l = A_l W_l + b_l              (sgemm)  then activation and dropout mask
    backward   E_l = G_l W_l^T                  (sgemm, pre-update weights, as the online path)
               dW_l = A_l^T G_l,  db_l = sum_b G_l  (sgemm; G holds dE/dz divided by B)
               update W_l, b_l at once (ADADELTA / Adam / momentum / plain, l1, l2, elastic)
               max_w2 rescaling;  G_{l-1} = E_l * act'(Z_{l-1}) * keep

The matrix products are numpy's (its BLAS releases the GIL; the caller keeps BLAS at one
thread per Hogwild thread); the element-wise steps are numba functions compiled ``nogil``,
so T Python threads run in parallel.  Per batch the Python work is a few dozen calls, small
next to the O(B * weights) arithmetic.

Semantics against the online path: the gradient is the batch mean of the per-row gradients;
l1, l2 and the elastic-averaging pull apply once per batch; every weight is updated every
batch (fast_mode's skipping of zero activations has nothing to skip in a dense product);
input and hidden dropout draw one mask per row, as online.  Annealing and momentum ramps
count samples, as online.
"""

import numpy as np
from numba import njit

from .codes import (ACT_MAXOUT, ACT_RELU, ACT_TANH, F_EPS, F_L1, F_L2, F_LAM, F_MAXW2,
                    F_NESTEROV, F_ONE_RHO, F_RHO, F_ZERO, HP_INPUT_DROPOUT, HP_NUM_START,
                    HP_PROCESSED, HP_SAME_MASKS, OPT_ADADELTA, OPT_ADAM, OPT_MOMENTUM, OUT_AUTOENCODER, OUT_LINEAR,
                    F_BETA1, F_ONE_BETA1, F_BETA2, F_ONE_BETA2)
from .fpmode import denormals_off, restore
from .numerics import column_count, input_value
from .pool import run_slices
from .rng import fill_row_streams, next_float, seed_state
from .rules import (FASTMATH, adadelta, adam, elastic, hidden_slope_times, hidden_value,
                    max_w2_rescale, maxout_winner, momentum, optimizer_width, output_gradient,
                    output_values, reconstruction_gradient, regularized, running_activation,
                    sparsity_bias_gradient, step_rates, typed_scalars)

_FM = FASTMATH
_OPTS = dict(cache=True, nogil=True, error_model="numpy")
NO_STREAMS = np.zeros(0, np.uint64)   # add_bias_activate: every row from the one state


@njit(fastmath=_FM, **_OPTS)
def assemble_input(x, nums, cats, order, lo, num_start, dropout, state):
    """x[b, units0] <- the input rows ``order[lo:lo+b]`` (one-hot slots, numerics), with input
    dropout (each non-zero input dropped with probability ``dropout``, no rescaling);
    ``nums``: either form of ``numerics.py``."""
    x[:, :] = 0.0
    for i in range(x.shape[0]):
        row = order[lo + i]
        for c in range(cats.shape[1]):
            s = cats[row, c]
            if s >= 0:
                x[i, s] += 1.0   # hashed slots add up (H2O)
        for j in range(column_count(nums)):
            x[i, num_start + j] = input_value(nums, row, j)
        if dropout > 0.0:
            for j in range(x.shape[1]):
                if x[i, j] != 0.0 and next_float(state) < dropout:
                    x[i, j] = 0.0


@njit(fastmath=_FM, **_OPTS)
def add_bias_activate(z, bias, a, keep, act, ratio, train, state, streams):
    """z += bias (per column); a <- activation of z.  Training draws a dropout mask into
    ``keep`` (a dropped unit's activation is 0): from ``state``, or, when ``streams``
    (uint64[b]) is not empty, row i's mask from a copy of ``streams[i]`` (H2O-3's one seed per
    row for every hidden layer); scoring scales by ``1 - ratio`` instead.

    Maxout: z has 2 columns per unit (channels 2k, 2k+1) and a[:, k] is their max.
    """
    b, n_z = z.shape
    for i in range(b):
        for k in range(n_z):
            z[i, k] += bias[k]
    n_a = a.shape[1]
    scratch = np.empty(1, np.uint64)   # row i's stream, when ``streams`` is given
    for i in range(b):
        # one loop per activation (the code a constant), so each loop vectorizes
        if act == ACT_RELU:
            for k in range(n_a):
                a[i, k] = hidden_value(ACT_RELU, z[i, k], z[i, k])
        elif act == ACT_TANH:
            for k in range(n_a):
                a[i, k] = hidden_value(ACT_TANH, z[i, k], z[i, k])
        else:
            for k in range(n_a):
                a[i, k] = hidden_value(ACT_MAXOUT, z[i, 2 * k], z[i, 2 * k + 1])
        if ratio > 0.0 and train:
            draw = state
            if streams.shape[0] > 0:
                scratch[0] = streams[i]
                draw = scratch
            for k in range(n_a):
                kept = next_float(draw) >= ratio
                keep[i, k] = 1 if kept else 0
                if not kept:
                    a[i, k] = 0.0
        elif ratio > 0.0:
            for k in range(n_a):
                a[i, k] *= 1.0 - ratio


@njit(fastmath=_FM, **_OPTS)
def output_activation(z, bias, out, out_kind, act):
    """out <- the output layer's activations of z + bias, per row (``rules.output_values``:
    softmax, the linear output, or the autoencoder's activation ``act``)."""
    b, n = z.shape
    for i in range(b):
        for k in range(n):
            z[i, k] += bias[k]
        output_values(z[i], out[i], n, out_kind, act)


@njit(fastmath=_FM, **_OPTS)
def output_layer(z, bias, out, g, net_out, loss, y, off, order, lo, hp, target):
    """Output activations into ``out`` (a linear output plus the row's offset ``off``, when
    ``off`` is not empty) and dE/dz / b into ``g`` (per row as ``rules.output_gradient``, or
    ``rules.reconstruction_gradient`` against ``target[b, n]`` for the autoencoder); b = rows
    in the batch; net_out = (out_kind, act)."""
    out_kind, act = net_out
    output_activation(z, bias, out, out_kind, act)
    b, n = z.shape
    scale = 1.0 / b
    offset = off.shape[0] > 0 and out_kind == OUT_LINEAR
    for i in range(b):
        if offset:
            out[i, 0] += off[order[lo + i]]
        if out_kind == OUT_AUTOENCODER:
            reconstruction_gradient(out[i], target[i], g[i], n, loss, hp)
        else:
            output_gradient(out[i], g[i], n, out_kind, loss, y[order[lo + i]], hp)
        for k in range(n):
            g[i, k] *= scale


@njit(fastmath=_FM, **_OPTS)
def batch_running_activation(avg, a):
    """The sparsity running means ``avg[n]`` after each row of the batch ``a[b, n]``, in row
    order (``rules.running_activation``)."""
    for i in range(a.shape[0]):
        running_activation(avg, a[i], a.shape[1])


@njit(fastmath=_FM, **_OPTS)
def hidden_gradient(e, a, z, keep, g, act, dropout):
    """g = dE/dz of a hidden layer from the back-propagated error ``e`` (dE/da)."""
    b, n = e.shape
    for i in range(b):
        for k in range(n):
            ek = e[i, k] if (dropout == 0.0 or keep[i, k] != 0) else 0.0
            if act != ACT_MAXOUT:
                g[i, k] = hidden_slope_times(act, ek, a[i, k])
            else:
                win = maxout_winner(z[i, 2 * k], z[i, 2 * k + 1])
                g[i, 2 * k + win] = ek
                g[i, 2 * k + 1 - win] = 0.0


@njit(fastmath=_FM, **_OPTS)
def column_sums(g, out):
    """out[k] = sum_i g[i, k]."""
    out[:] = 0.0
    for i in range(g.shape[0]):
        for k in range(g.shape[1]):
            out[k] += g[i, k]


@njit(inline="always", error_model="numpy")
def _momentum_loop(w, v, c, grad, lr, mom, nesterov, ea, l1, l2, lam, zero):
    """The momentum step over a flat block (``_step``'s loop; ``nesterov`` a constant)."""
    if ea:
        for k in range(w.shape[0]):
            gk = elastic(regularized(grad[k], w[k], l1, l2, zero), w[k], c[k], lam)
            v[k], w[k] = momentum(w[k], gk, v[k], lr, mom, nesterov)
    else:
        for k in range(w.shape[0]):
            gk = regularized(grad[k], w[k], l1, l2, zero)
            v[k], w[k] = momentum(w[k], gk, v[k], lr, mom, nesterov)


@njit(fastmath=_FM, **_OPTS)
def _step(w, s1, s2, c, grad, opt, f, lr, mom, ea):
    """One fused pass of the optimizer over a flat parameter block (views of one buffer).

    The elastic term sits in its own loops so the common loops vectorize without it.
    """
    l1, l2, lam, zero = f[F_L1], f[F_L2], f[F_LAM], f[F_ZERO]
    n = w.shape[0]
    if opt == OPT_ADADELTA:
        rho, one_rho, eps = f[F_RHO], f[F_ONE_RHO], f[F_EPS]
        if ea:
            for k in range(n):
                gk = elastic(regularized(grad[k], w[k], l1, l2, zero), w[k], c[k], lam)
                s1[k], s2[k], w[k] = adadelta(w[k], gk, s1[k], s2[k], rho, one_rho, eps)
        else:
            for k in range(n):
                gk = regularized(grad[k], w[k], l1, l2, zero)
                s1[k], s2[k], w[k] = adadelta(w[k], gk, s1[k], s2[k], rho, one_rho, eps)
    elif opt == OPT_ADAM:
        b1, one_b1, b2, one_b2 = f[F_BETA1], f[F_ONE_BETA1], f[F_BETA2], f[F_ONE_BETA2]
        eps = f[F_EPS]
        if ea:
            for k in range(n):
                gk = elastic(regularized(grad[k], w[k], l1, l2, zero), w[k], c[k], lam)
                s1[k], s2[k], w[k] = adam(w[k], gk, s1[k], s2[k], lr, b1, one_b1, b2, one_b2,
                                          eps)
        else:
            for k in range(n):
                gk = regularized(grad[k], w[k], l1, l2, zero)
                s1[k], s2[k], w[k] = adam(w[k], gk, s1[k], s2[k], lr, b1, one_b1, b2, one_b2,
                                          eps)
    elif opt == OPT_MOMENTUM:
        # one loop per form (H2O's or Nesterov's), so each loop holds one formula
        if f[F_NESTEROV] != zero:
            _momentum_loop(w, s1, c, grad, lr, mom, True, ea, l1, l2, lam, zero)
        else:
            _momentum_loop(w, s1, c, grad, lr, mom, False, ea, l1, l2, lam, zero)
    else:
        if ea:
            for k in range(n):
                w[k] -= lr * elastic(regularized(grad[k], w[k], l1, l2, zero), w[k], c[k], lam)
        else:
            for k in range(n):
                w[k] -= lr * regularized(grad[k], w[k], l1, l2, zero)


@njit(**_OPTS)
def apply_update(buf, center, base, grad, opt, f, lr, mom):
    """Update ``buf[base:base+n]`` with the batch gradient ``grad[n]`` (flat, contiguous).

    The gradient gets l1 sign(w) + l2 w (+ lambda (w - c) under elastic averaging, ``center``
    holding the consensus; a 1-element dummy otherwise), then the optimizer step as online,
    in one pass over memory.  ``lr``, ``mom``: manual rate and momentum in buf's dtype (unused
    by ADADELTA).
    """
    n = grad.shape[0]
    width = optimizer_width(opt)
    p = buf.shape[0] // width
    w = buf[base:base + n]
    s1 = buf[p + base:p + base + n] if width > 1 else w
    s2 = buf[2 * p + base:2 * p + base + n] if width > 2 else w
    ea = center.shape[0] > 1
    c = center[base:base + n] if ea else w
    _step(w, s1, s2, c, grad, opt, f, lr, mom, ea)


def layer_views(buf, units, mult, woff, boff):
    """([W_l as units[l] x n_out_l matrices], [b_l vectors]): views into ``buf``."""
    n_z = [int(mult[l] * units[l + 1]) for l in range(len(units) - 1)]
    weights = [buf[woff[l]:woff[l] + units[l] * n].reshape(int(units[l]), n)
               for l, n in enumerate(n_z)]
    return weights, [buf[boff[l]:boff[l] + n] for l, n in enumerate(n_z)]


class _Workspace:
    """One thread's batch arrays: activations, pre-activations, errors, gradients, dW."""

    def __init__(self, units, n_z, batch, dt):
        nl = len(units) - 1
        self.a = [np.zeros((batch, int(u)), dt) for u in units]
        self.target = np.zeros((batch, int(units[0])), dt)   # autoencoder, input dropout
        self.z = [np.zeros((batch, n), dt) for n in n_z]
        self.g = [np.zeros((batch, n), dt) for n in n_z]
        self.e = [np.zeros((batch, int(units[l])), dt) for l in range(nl)]
        self.keep = [np.ones((batch, int(u)), np.uint8) for u in units]
        self.dw = [np.zeros(int(units[l]) * n_z[l], dt) for l in range(nl)]
        self.db = [np.zeros(n, dt) for n in n_z]
        self.r2 = np.zeros(max(n_z), dt)
        self.ones = np.ones(max(n_z), dt)     # max_w2: every unit was updated in the batch


def _train_slice(net, objective, buf, center, rows, order, lo, hi, batch, seed, stride):
    """One Hogwild thread: rows ``order[lo:hi]`` in batches of ``batch``; returns rows done."""
    units, mult, woff, boff, act, out_kind, ratios = net
    loss, opt, hp, avg_act = objective
    avg_at = np.concatenate(([0], np.cumsum(units[1:-1])))   # each hidden layer in avg_act
    nums, cats, y, off = rows
    units = [int(u) for u in units]
    nl = len(units) - 1
    weights, biases = layer_views(buf, units, mult, woff, boff)
    n_z = [w.shape[1] for w in weights]
    ws = _Workspace(units, n_z, batch, buf.dtype)
    f = typed_scalars(hp, buf)
    state = np.array([seed_state(seed, 0)], dtype=np.uint64)
    rates = np.zeros(nl)
    lr, mom = np.zeros(nl, buf.dtype), buf.dtype.type(0)
    num_start, in_drop = int(hp[HP_NUM_START]), hp[HP_INPUT_DROPOUT]
    max_w2 = float(f[F_MAXW2])
    streams = np.zeros(batch if hp[HP_SAME_MASKS] != 0.0 else 0, np.uint64)
    mode = denormals_off()
    try:
        for s in range(lo, hi, batch):
            b = min(batch, hi - s)
            if opt != OPT_ADADELTA:
                mom = buf.dtype.type(step_rates(hp, opt, nl, hp[HP_PROCESSED] + (s - lo) * stride,
                                                float(batch), rates, f))
                lr = rates.astype(buf.dtype)
            a0 = ws.a[0][:b]
            assemble_input(a0, nums, cats, order, s, num_start, in_drop, state)
            target = a0
            row_streams = streams[:b]
            fill_row_streams(row_streams, state)
            if out_kind == OUT_AUTOENCODER and in_drop > 0.0:   # the clean input
                target = ws.target[:b]
                assemble_input(target, nums, cats, order, s, num_start, 0.0, state)
            for l in range(nl):
                z = ws.z[l][:b]
                np.matmul(ws.a[l][:b], weights[l], out=z)
                if l < nl - 1:
                    add_bias_activate(z, biases[l], ws.a[l + 1][:b], ws.keep[l + 1][:b], act,
                                      ratios[l], True, state, row_streams)
                    if avg_act.shape[0] > 0:
                        batch_running_activation(avg_act[avg_at[l]:avg_at[l + 1]],
                                                 ws.a[l + 1][:b])
                else:
                    output_layer(z, biases[l], ws.a[nl][:b], ws.g[l][:b], (out_kind, act),
                                 loss, y, off, order, s, hp, target)
            for l in range(nl - 1, -1, -1):
                g = ws.g[l][:b]
                if l > 0:
                    np.matmul(g, weights[l].T, out=ws.e[l][:b])
                np.matmul(ws.a[l][:b].T, g, out=ws.dw[l].reshape(weights[l].shape))
                column_sums(g, ws.db[l])
                apply_update(buf, center, woff[l], ws.dw[l], opt, f, lr[l], mom)
                if max_w2 < 3.4e38:
                    max_w2_rescale(buf, woff[l], int(units[l]), n_z[l], ws.ones, True,
                                   f[F_MAXW2], ws.r2)
                if avg_act.shape[0] > 0 and l < nl - 1:
                    sparsity_bias_gradient(ws.db[l].copy(), avg_act[avg_at[l]:], ws.db[l],
                                           n_z[l], hp)
                apply_update(buf, center, boff[l], ws.db[l], opt, f, lr[l], mom)
                if l > 0:
                    hidden_gradient(ws.e[l][:b], ws.a[l][:b], ws.z[l - 1][:b],
                                    ws.keep[l][:b], ws.g[l - 1][:b], act, ratios[l - 1])
    finally:
        restore(mode)
    return hi - lo


def train_minibatch(net, objective, buf, center, rows, order, batch, nthreads, seeds):
    """Hogwild over mini-batches: ``nthreads`` threads, each a contiguous slice of ``order``.

    Arguments as ``online.train_hogwild`` plus ``batch`` (rows per mini-batch); ``seeds``:
    int64[nthreads].  Returns rows processed.
    """
    done = run_slices(lambda t, lo, hi: _train_slice(net, objective, buf, center, rows, order,
                                                     lo, hi, batch, int(seeds[t]), nthreads),
                      nthreads, order.shape[0])
    return sum(done)
