"""Online (one row at a time) Hogwild training kernels, H2O's per-sample SGD (spec sections 3-5).

All arrays are plain numpy; nothing here imports the rest of the package.

Buffer layout (see ``model/network.py``): ``buf = [params | slot1 | slot2]`` with
``W_l`` in-major at ``woff[l]`` (shape ``units[l] x n_out_l``, ``n_out_l = mult[l]*units[l+1]``)
and ``b_l`` at ``boff[l]``.  ``buf`` is float32 in training, float64 for gradient checks; the
scratch vectors take the same dtype.

Per row: assemble the input (one-hot slots + numerics), draw dropout masks, forward pass
keeping the list of non-zero activations per layer, output gradient, then backprop from the
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
    F_EPS, F_FAST, F_L1, F_L2, F_LAM, F_MAXW2, F_NESTEROV, F_ONE, F_ONE_RHO, F_RHO, F_SIZE, F_ZERO,
    ACT_MAXOUT, ACT_RELU, ACT_TANH, HP_ANNEAL, HP_DECAY, HP_EA_LAMBDA, HP_EPS, HP_FAST_MODE,
    HP_HUBER_DELTA, HP_INPUT_DROPOUT, HP_L1, HP_L2, HP_MAX_W2, HP_MOM_RAMP, HP_MOM_STABLE,
    HP_MOM_START, HP_NESTEROV, HP_NUM_START, HP_PROCESSED, HP_QUANTILE_ALPHA, HP_RATE, HP_RHO,
    HP_TWEEDIE_POWER, LOSS_ABSOLUTE, LOSS_CROSSENTROPY, LOSS_GAMMA, LOSS_HUBER, LOSS_POISSON,
    LOSS_QUADRATIC, LOSS_QUANTILE, LOSS_TWEEDIE, OPT_ADADELTA, OPT_ADAM, OPT_MOMENTUM, OPT_PLAIN,
    OUT_SOFTMAX, F_BETA1, F_ONE_BETA1, F_BETA2, F_ONE_BETA2, HP_BETA1, HP_BETA2,
)
from .approx import approx_sqrt
from .fpmode import denormals_off, restore
from .rng import next_float, seed_state

_FM = {"nsz", "arcp", "contract", "afn", "reassoc"}


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

    ``cats[row, c]``: one-hot slot index or -1; ``nums[row, i]`` goes to ``num_start + i``.
    ``nz0`` receives the indices of non-zero inputs (all indices when not fast_mode).
    Input dropout (ratio ``dropout``) zeroes each slot independently, without rescaling.
    """
    n0 = a0.shape[0]
    a0[:] = 0.0
    for c in range(cats.shape[1]):
        s = cats[row, c]
        if s >= 0:
            a0[s] = 1.0
    for i in range(nums.shape[1]):
        a0[num_start + i] = nums[row, i]
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
    for k in range(units_out):
        kept = True
        if train and ratio > 0.0:
            kept = next_float(state) >= ratio
        keep[k] = 1 if kept else 0
        if not kept:
            a[k] = 0.0
            continue
        if act == ACT_TANH:
            v = np.tanh(z[k])
        elif act == ACT_RELU:
            v = z[k] if z[k] > 0.0 else 0.0
        else:
            v = z[2 * k] if z[2 * k] >= z[2 * k + 1] else z[2 * k + 1]
        if not train:
            v *= 1.0 - ratio
        a[k] = v
        if v != 0.0 or not fast_mode:
            nz[cnt] = k
            cnt += 1
    return cnt


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _softmax(z, p, n):
    m = z[0]
    for k in range(1, n):
        if z[k] > m:
            m = z[k]
    s = 0.0
    for k in range(n):
        p[k] = np.exp(z[k] - m)
        s += p[k]
    for k in range(n):
        p[k] /= s


@njit(cache=True, error_model="numpy")
def forward(buf, units, mult, woff, boff, act, out_kind, ratios, a, z, keep, nz, nnz,
            aoff, zoff, fast_mode, train, state):
    """Forward pass of one row whose input is already in ``a[aoff[0]:aoff[1]]`` and ``nz``.

    ``nnz[0]`` holds the input's non-zero count; fills ``nnz[1..L]``.  Output probabilities
    (softmax) or the linear output land in ``a[aoff[L+1]:]``.
    """
    nl = units.shape[0] - 1
    for l in range(nl):
        n_out = mult[l] * units[l + 1]
        zl = z[zoff[l]:zoff[l] + n_out]
        _forward_layer(matrix(buf, woff[l], units[l], n_out), buf[boff[l]:boff[l] + n_out],
                       a[aoff[l]:aoff[l + 1]], nz[aoff[l]:aoff[l + 1]], nnz[l], zl)
        if l < nl - 1:
            nnz[l + 1] = _activate(zl, a[aoff[l + 1]:aoff[l + 2]], keep[aoff[l + 1]:aoff[l + 2]],
                                   nz[aoff[l + 1]:aoff[l + 2]], units[l + 1], act, ratios[l],
                                   fast_mode, train, state)
        elif out_kind == OUT_SOFTMAX:
            _softmax(zl, a[aoff[l + 1]:aoff[l + 2]], n_out)
        else:
            a[aoff[l + 1]] = zl[0]


@njit(cache=True, fastmath=_FM, error_model="numpy")
def output_gradient(out, g, n_out, out_kind, loss, y, hp):
    """dE/dz of the output layer into ``g[n_out]`` for target ``y`` (spec 3.1).

    Objectives: CrossEntropy -log p_y; Quadratic (softmax) 1/2 sum (p - t)^2 with the full
    softmax Jacobian; linear: gaussian (f-y)^2, laplace |f-y|, huber (delta = hp), quantile
    pinball, poisson / gamma / tweedie deviance with log link (f is the link-space output).
    """
    if out_kind == OUT_SOFTMAX:
        t = int(y)
        if loss == LOSS_CROSSENTROPY:
            for k in range(n_out):
                g[k] = out[k] - (1.0 if k == t else 0.0)
        else:
            s = 0.0
            for k in range(n_out):
                s += (out[k] - (1.0 if k == t else 0.0)) * out[k]
            for k in range(n_out):
                g[k] = out[k] * ((out[k] - (1.0 if k == t else 0.0)) - s)
        return
    f = out[0]
    if loss == LOSS_QUADRATIC:
        g[0] = 2.0 * (f - y)
    elif loss == LOSS_ABSOLUTE:
        g[0] = 1.0 if f > y else -1.0
    elif loss == LOSS_HUBER:
        d = hp[HP_HUBER_DELTA]
        if abs(y - f) <= d:
            g[0] = 2.0 * (f - y)
        else:
            g[0] = 2.0 * d if f >= y else -2.0 * d
    elif loss == LOSS_QUANTILE:
        alpha = hp[HP_QUANTILE_ALPHA]
        g[0] = -alpha if y > f else 1.0 - alpha
    elif loss == LOSS_POISSON:
        g[0] = 2.0 * (min(1e19, np.exp(f)) - y)
    elif loss == LOSS_GAMMA:
        g[0] = 2.0 * (1.0 - y * min(1e19, np.exp(-f)))
    elif loss == LOSS_TWEEDIE:
        p = hp[HP_TWEEDIE_POWER]
        g[0] = 2.0 * (min(1e19, np.exp(f * (2.0 - p))) - y * min(1e19, np.exp(f * (1.0 - p))))


@njit(inline="always", fastmath=_FM, error_model="numpy")
def _grad(wk, gk, aj, l1, l2, zero):
    """Gradient of one weight: g * a + l1 sign(w) + l2 w."""
    return gk * aj + l2 * wk + (l1 if wk > zero else (-l1 if wk < zero else zero))


@njit(inline="always", fastmath=_FM, error_model="numpy")
def _adadelta(wk, grad, e0, d0, rho, one_rho, eps):
    """One ADADELTA step (spec 4.1): returns (E[g^2], E[dx^2], w) after the update."""
    eg2 = rho * e0 + one_rho * grad * grad
    dx = approx_sqrt((d0 + eps) / (eg2 + eps)) * grad
    return eg2, rho * d0 + one_rho * dx * dx, wk - dx


@njit(inline="always", fastmath=_FM, error_model="numpy")
def _adam(wk, grad, m0, v0, lr, b1, one_b1, b2, one_b2, eps):
    """One Adam step with the bias correction folded into ``lr``: returns (m, v, w) after it."""
    m1 = b1 * m0 + one_b1 * grad
    v1 = b2 * v0 + one_b2 * grad * grad
    return m1, v1, wk - lr * m1 / (np.sqrt(v1) + eps)


@njit(inline="always", fastmath=_FM, error_model="numpy")
def _momentum(wk, grad, v0, lr, mom, nesterov):
    """Manual rate with momentum (spec 4.2): returns (v, w) after the step; Nesterov-style
    accumulating velocity, or H2O's one-step form."""
    if nesterov:
        v1 = mom * v0 - grad
        return v1, wk + lr * v1
    v1 = -lr * grad
    return v1, wk + v1 + mom * v0


# How _update_rows picks its rows: the listed non-zero sources, every source, or the bias.
ROWS_LISTED, ROWS_ALL, ROWS_BIAS = 0, 1, 2


@njit(cache=True, fastmath=_FM, error_model="numpy")
def _update_rows(w, s1, s2, c, mode, rows, count, a_src, keep, e_src, hidden_src, g, f, opt, lr,
                 mom, noshortcut, ea, fast):
    """Update the rows of one layer's parameter matrix ``w`` (n_in x n_out; the bias vector is
    a 1 x n_out matrix) for the destination gradient ``g[n_out]``, with the optimizer ``opt``.

    ``s1``, ``s2``: its optimizer state, ``c``: the consensus (elastic averaging), all views of
    ``w``'s shape (unused slots may be ``w`` itself; ``c`` is read only when ``ea``).
    ``mode``: ROWS_LISTED updates the sources ``rows[:count]`` (non-zero activations
    ``a_src[j]``); ROWS_ALL visits every source j < ``count``, updating those with a non-zero
    activation (or all, when not ``fast``) and only propagating the error through the others;
    ROWS_BIAS updates row 0 with activation 1.  When ``hidden_src``, ``e_src[j]`` receives
    sum_k g_k w[j, k] with the pre-update weights (0 for a dropped unit, ``keep[j] == 0``).

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
                grad = _grad(wk, gk, aj, l1, l2, zero)
                if ea:
                    grad += lam * (wk - c[j, k])
                if opt == OPT_ADADELTA:
                    t1, u1, w1 = _adadelta(wk, grad, t0, u0, rho, one_rho, eps)
                else:
                    t1, u1, w1 = _adam(wk, grad, t0, u0, lr, b1, one_b1, b2, one_b2, eps)
                upd = (gk != zero) | noshortcut
                s1[j, k], s2[j, k], w[j, k] = (t1, u1, w1) if upd else (t0, u0, wk)
        elif opt == OPT_MOMENTUM:
            for k in range(n):
                wk, gk, v0 = w[j, k], g[k], s1[j, k]
                acc += gk * wk
                grad = _grad(wk, gk, aj, l1, l2, zero)
                if ea:
                    grad += lam * (wk - c[j, k])
                v1, w1 = _momentum(wk, grad, v0, lr, mom, nesterov)
                upd = (gk != zero) | noshortcut
                s1[j, k], w[j, k] = (v1, w1) if upd else (v0, wk)
        else:
            for k in range(n):
                wk, gk = w[j, k], g[k]
                acc += gk * wk
                grad = _grad(wk, gk, aj, l1, l2, zero)
                if ea:
                    grad += lam * (wk - c[j, k])
                upd = (gk != zero) | noshortcut
                w[j, k] = (wk - lr * grad) if upd else wk
        if hidden_src:
            e_src[j] = acc if keep[j] != 0 else zero


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
def _max_w2(buf, wo, n_in, n_out, gl, every, max_w2, r2):
    """Rescale each updated destination unit whose incoming squared norm exceeds max_w2 (spec 4.6).

    Updated: ``gl[k] != 0``, or ``every`` unit when fast_mode's shortcut is off (H2O's bprop
    visits and rescales every unit then, Neurons.java ``bprop`` / ``rescale_weights``).
    """
    w = matrix(buf, wo, n_in, n_out)
    r2[:n_out] = 0.0
    for j in range(n_in):
        for k in range(n_out):
            r2[k] += w[j, k] * w[j, k]
    any_big = False
    for k in range(n_out):
        if (gl[k] != 0.0 or every) and r2[k] > max_w2:
            r2[k] = np.sqrt(max_w2 / r2[k])
            any_big = True
        else:
            r2[k] = 1.0
    if any_big:
        for j in range(n_in):
            for k in range(n_out):
                w[j, k] *= r2[k]


@njit(cache=True, fastmath=_FM, error_model="numpy")
def backward(buf, center, units, mult, woff, boff, act, opt, f, lr_layer, mom,
             a, z, g, e, keep, nz, nnz, aoff, zoff, r2):
    """Backprop and update every layer, output first (spec 3.2-4.6).

    ``g[zoff[L-1]:]`` must hold the output gradient.  ``f``: typed scalars (see
    ``typed_scalars``); ``lr_layer[l]``: manual rate of weight layer l (unused under
    ADADELTA); ``mom``: current momentum.  ``center``: consensus buffer (elastic averaging) or
    a 1-element dummy.
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
                         lr, mom, noshortcut, ea, fast)
        else:
            if hidden_src:
                el[:] = 0.0
            _update_rows(w, s1, s2, c, ROWS_LISTED, nzl, nnz[l], al, kl, el, hidden_src, gl, f,
                         opt, lr, mom, noshortcut, ea, fast)
        if max_w2 < 3.4e38:
            _max_w2(buf, wo, n_in, n_out, gl, noshortcut, max_w2, r2)
        # biases: a row with source activation 1 (their own gradient; H2O feeds the weights'
        # mean g^2 to the bias ADADELTA state, a quirk)
        bw, bs1, bs2, bc = _slots(buf, center, ea, width, n_params, boff[l], 1, n_out)
        _update_rows(bw, bs1, bs2, bc, ROWS_BIAS, nzl, 1, al, kl, el, False, gl, f, opt, lr, mom,
                     noshortcut, ea, fast)
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
                elif act == ACT_TANH:
                    gp[j] = el[j] * (1.0 - al[j] * al[j])
                elif act == ACT_RELU:
                    gp[j] = el[j] if al[j] > 0.0 else 0.0
                else:
                    zp = z[zoff[l - 1]:zoff[l]]
                    win = 0 if zp[2 * j] >= zp[2 * j + 1] else 1
                    gp[2 * j + win] = el[j]
                    gp[2 * j + 1 - win] = 0.0


@njit(cache=True, error_model="numpy")
def optimizer_width(opt):
    """1 + optimizer slots per parameter: the buffer holds this many blocks of n_params."""
    return 3 if (opt == OPT_ADADELTA or opt == OPT_ADAM) else (2 if opt == OPT_MOMENTUM else 1)


@njit(cache=True, error_model="numpy")
def typed_scalars(hp, buf):
    """The update rules' scalars in ``buf``'s dtype (float32 arithmetic in the hot loops)."""
    f = np.zeros(F_SIZE, dtype=buf.dtype)
    f[F_RHO] = hp[HP_RHO]
    f[F_ONE_RHO] = 1.0 - hp[HP_RHO]
    f[F_EPS] = hp[HP_EPS]
    f[F_L1] = hp[HP_L1]
    f[F_L2] = hp[HP_L2]
    f[F_LAM] = hp[HP_EA_LAMBDA]
    f[F_ONE] = 1.0
    f[F_NESTEROV] = hp[HP_NESTEROV]
    f[F_FAST] = hp[HP_FAST_MODE]
    f[F_MAXW2] = min(hp[HP_MAX_W2], 3.4028234e38)
    f[F_BETA1] = hp[HP_BETA1]
    f[F_ONE_BETA1] = 1.0 - hp[HP_BETA1]
    f[F_BETA2] = hp[HP_BETA2]
    f[F_ONE_BETA2] = 1.0 - hp[HP_BETA2]
    return f


@njit(cache=True, error_model="numpy")
def step_rates(hp, opt, n_layers, processed, batch, lr_layer):
    """Per-layer step sizes and momentum for the update after ``processed`` samples, taken in
    mini-batches of ``batch`` rows (1 online): ``_rates``, times Adam's bias correction
    sqrt(1 - beta2^t) / (1 - beta1^t) at step t = processed / batch + 1 under Adam."""
    mom = _rates(hp, n_layers, processed, lr_layer)
    if opt == OPT_ADAM:
        t = processed / batch + 1.0
        corr = np.sqrt(1.0 - hp[HP_BETA2] ** t) / (1.0 - hp[HP_BETA1] ** t)
        for l in range(n_layers):
            lr_layer[l] *= corr
    return mom


@njit(cache=True, error_model="numpy")
def _rates(hp, n_layers, processed, lr_layer):
    """Manual per-layer rates (annealed) and the ramped momentum at ``processed`` samples."""
    anneal = 1.0 + hp[HP_ANNEAL] * processed
    r = hp[HP_RATE]
    ramp = hp[HP_MOM_RAMP]
    start = hp[HP_MOM_START]
    mom = start
    if ramp > 0.0:
        mom = start + (hp[HP_MOM_STABLE] - start) * min(processed, ramp) / ramp
    for l in range(n_layers):
        lr_layer[l] = r * hp[HP_DECAY] ** l / anneal * (1.0 - mom)
    return mom


@njit(cache=True, error_model="numpy")
def train_chunk(buf, center, units, mult, woff, boff, act, out_kind, loss, opt, hp, ratios,
                nums, cats, y, order, start, stop, seed, stride):
    """Train rows ``order[start:stop]`` sequentially on the shared ``buf``; one Hogwild thread.

    ``seed``: this thread's stream seed; ``stride``: number of threads (for the annealing
    estimate of global progress).  Returns the number of rows processed.
    """
    nl = units.shape[0] - 1
    aoff, zoff = layer_offsets(units, mult)
    dt = buf.dtype
    a = np.zeros(aoff[nl + 1], dtype=dt)
    e = np.zeros(aoff[nl + 1], dtype=dt)
    z = np.zeros(zoff[nl], dtype=dt)
    g = np.zeros(zoff[nl], dtype=dt)
    r2 = np.zeros(zoff[nl], dtype=dt)
    keep = np.ones(aoff[nl + 1], dtype=np.uint8)
    nz = np.zeros(aoff[nl + 1], dtype=np.int64)
    nnz = np.zeros(nl + 1, dtype=np.int64)
    lr_layer = np.zeros(nl, dtype=dt)
    rates = np.zeros(nl, dtype=np.float64)
    mom = np.zeros(1, dtype=dt)
    f = typed_scalars(hp, buf)
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed_state(seed, 0)
    fast = hp[HP_FAST_MODE] != 0.0
    num_start = int(hp[HP_NUM_START])
    processed0 = hp[HP_PROCESSED]
    out_lo = aoff[nl]
    n_out = mult[nl - 1] * units[nl]
    fpmode = denormals_off()
    for i in range(start, stop):
        row = order[i]
        if opt != OPT_ADADELTA:
            mom[0] = step_rates(hp, opt, nl, processed0 + (i - start) * stride, 1.0, rates)
            lr_layer[:] = rates
        nnz[0] = set_input(a[0:aoff[1]], nz[0:aoff[1]], nums, cats, row, num_start, fast,
                           hp[HP_INPUT_DROPOUT], state)
        forward(buf, units, mult, woff, boff, act, out_kind, ratios, a, z, keep, nz, nnz,
                aoff, zoff, fast, True, state)
        output_gradient(a[out_lo:out_lo + n_out], g[zoff[nl - 1]:zoff[nl]], n_out, out_kind,
                        loss, y[row], hp)
        backward(buf, center, units, mult, woff, boff, act, opt, f, lr_layer, mom[0],
                 a, z, g, e, keep, nz, nnz, aoff, zoff, r2)
    restore(fpmode)
    return stop - start


@njit(cache=True, parallel=True, error_model="numpy")
def train_hogwild(buf, center, units, mult, woff, boff, act, out_kind, loss, opt, hp, ratios,
                  nums, cats, y, order, nthreads, seeds):
    """Hogwild: ``nthreads`` threads each train a contiguous slice of ``order`` on shared ``buf``.

    seeds: int64[nthreads] per-thread RNG streams.  Returns rows processed (int64).
    """
    n = order.shape[0]
    done = np.zeros(nthreads, dtype=np.int64)
    for t in prange(nthreads):
        lo = n * t // nthreads
        hi = n * (t + 1) // nthreads
        done[t] = train_chunk(buf, center, units, mult, woff, boff, act, out_kind, loss, opt, hp,
                              ratios, nums, cats, y, order, lo, hi, seeds[t], nthreads)
    return done.sum()
