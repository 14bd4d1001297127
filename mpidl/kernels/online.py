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
    ACT_MAXOUT, ACT_RELU, ACT_TANH, HP_ANNEAL, HP_DECAY, HP_EA_LAMBDA, HP_EPS, HP_FAST_MODE,
    HP_HUBER_DELTA, HP_INPUT_DROPOUT, HP_L1, HP_L2, HP_MAX_W2, HP_MOM_RAMP, HP_MOM_STABLE,
    HP_MOM_START, HP_NESTEROV, HP_NUM_START, HP_PROCESSED, HP_QUANTILE_ALPHA, HP_RATE, HP_RHO,
    HP_TWEEDIE_POWER, LOSS_ABSOLUTE, LOSS_CROSSENTROPY, LOSS_GAMMA, LOSS_HUBER, LOSS_POISSON,
    LOSS_QUADRATIC, LOSS_QUANTILE, LOSS_TWEEDIE, OPT_ADADELTA, OPT_MOMENTUM, OPT_PLAIN, OUT_SOFTMAX,
)
from .rng import next_float, seed_state

_FM = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True)
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


@njit(cache=True, fastmath=_FM)
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


@njit(cache=True, fastmath=_FM)
def _forward_layer(buf, wo, bo, n_out, a_src, nz_src, nnz, z):
    """z[n_out] = b + sum over non-zero sources j of a_src[j] * W[j, :] (in-major W)."""
    for k in range(n_out):
        z[k] = buf[bo + k]
    for i in range(nnz):
        j = nz_src[i]
        v = a_src[j]
        base = wo + j * n_out
        for k in range(n_out):
            z[k] += v * buf[base + k]


@njit(cache=True, fastmath=_FM)
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


@njit(cache=True, fastmath=_FM)
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


@njit(cache=True)
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
        _forward_layer(buf, woff[l], boff[l], n_out, a[aoff[l]:aoff[l + 1]],
                       nz[aoff[l]:aoff[l + 1]], nnz[l], zl)
        if l < nl - 1:
            nnz[l + 1] = _activate(zl, a[aoff[l + 1]:aoff[l + 2]], keep[aoff[l + 1]:aoff[l + 2]],
                                   nz[aoff[l + 1]:aoff[l + 2]], units[l + 1], act, ratios[l],
                                   fast_mode, train, state)
        elif out_kind == OUT_SOFTMAX:
            _softmax(zl, a[aoff[l + 1]:aoff[l + 2]], n_out)
        else:
            a[aoff[l + 1]] = zl[0]


@njit(cache=True, fastmath=_FM)
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


@njit(cache=True, fastmath=_FM)
def _update_row(buf, center, s1, s2, base, n_out, aj, gl, opt, noshortcut,
                rho, eps, lr, mom, nesterov, l1, l2, lam):
    """Update the ``n_out`` outgoing weights of one source unit; return sum_k g_k * w_k (pre-update).

    ``base``: flat index of W[j, 0]; the optimizer slots sit at ``s1 + base``/``s2 + base``.
    Entries with g_k == 0 keep their values when the shortcut applies (fast_mode).
    """
    acc = 0.0
    one_rho = 1.0 - rho
    for k in range(n_out):
        w = buf[base + k]
        gk = gl[k]
        acc += gk * w
        grad = gk * aj + l2 * w
        if l1 != 0.0:
            grad += l1 * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
        if lam != 0.0:
            grad += lam * (w - center[base + k])
        upd = (gk != 0.0) or noshortcut
        if opt == OPT_ADADELTA:
            eg = buf[s1 + base + k]
            edx = buf[s2 + base + k]
            eg_new = rho * eg + one_rho * grad * grad
            eta = np.sqrt((edx + eps) / (eg_new + eps))
            dx = eta * grad
            buf[s1 + base + k] = eg_new if upd else eg
            buf[s2 + base + k] = (rho * edx + one_rho * dx * dx) if upd else edx
            buf[base + k] = (w - dx) if upd else w
        elif opt == OPT_MOMENTUM:
            v = buf[s1 + base + k]
            if nesterov:
                v_new = mom * v - grad
                w_new = w + lr * v_new
            else:
                v_new = -lr * grad
                w_new = w + v_new + mom * v
            buf[s1 + base + k] = v_new if upd else v
            buf[base + k] = w_new if upd else w
        else:
            buf[base + k] = (w - lr * grad) if upd else w
    return acc


@njit(cache=True, fastmath=_FM)
def _max_w2(buf, wo, n_in, n_out, gl, max_w2, r2):
    """Rescale each updated destination unit whose incoming squared norm exceeds max_w2 (spec 4.6)."""
    r2[:n_out] = 0.0
    for j in range(n_in):
        base = wo + j * n_out
        for k in range(n_out):
            r2[k] += buf[base + k] * buf[base + k]
    any_big = False
    for k in range(n_out):
        if gl[k] != 0.0 and r2[k] > max_w2:
            r2[k] = np.sqrt(max_w2 / r2[k])
            any_big = True
        else:
            r2[k] = 1.0
    if any_big:
        for j in range(n_in):
            base = wo + j * n_out
            for k in range(n_out):
                buf[base + k] *= r2[k]


@njit(cache=True, fastmath=_FM)
def backward(buf, center, units, mult, woff, boff, act, opt, hp, lr_layer, mom,
             a, z, g, e, keep, nz, nnz, aoff, zoff, r2):
    """Backprop and update every layer, output first (spec 3.2-4.6).

    ``g[zoff[L-1]:]`` must hold the output gradient.  ``lr_layer[l]`` is the manual rate of
    weight layer l (ignored under ADADELTA); ``mom`` the current momentum.
    """
    nl = units.shape[0] - 1
    n_params = buf.shape[0] // (3 if opt == OPT_ADADELTA else (2 if opt == OPT_MOMENTUM else 1))
    s1 = n_params
    s2 = 2 * n_params
    rho = hp[HP_RHO]
    eps = hp[HP_EPS]
    l1 = hp[HP_L1]
    l2 = hp[HP_L2]
    lam = hp[HP_EA_LAMBDA]
    nesterov = hp[HP_NESTEROV] != 0.0
    fast = hp[HP_FAST_MODE] != 0.0
    noshortcut = not (fast or (opt == OPT_PLAIN and l1 == 0.0 and l2 == 0.0))
    max_w2 = hp[HP_MAX_W2]
    for l in range(nl - 1, -1, -1):
        n_in = units[l]
        n_out = mult[l] * units[l + 1]
        gl = g[zoff[l]:zoff[l] + n_out]
        al = a[aoff[l]:aoff[l + 1]]
        el = e[aoff[l]:aoff[l + 1]]
        kl = keep[aoff[l]:aoff[l + 1]]
        wo = woff[l]
        lr = lr_layer[l]
        hidden_src = l > 0
        # error is needed for every kept source unit whose derivative can be non-zero at a = 0
        dense = (not fast) or (hidden_src and act != ACT_RELU)
        if dense:
            for j in range(n_in):
                dropped = hidden_src and kl[j] == 0
                if al[j] != 0.0 or not fast:
                    acc = _update_row(buf, center, s1, s2, wo + j * n_out, n_out, al[j], gl, opt,
                                      noshortcut, rho, eps, lr, mom, nesterov, l1, l2, lam)
                elif hidden_src and not dropped:
                    acc = 0.0
                    for k in range(n_out):
                        acc += gl[k] * buf[wo + j * n_out + k]
                else:
                    acc = 0.0
                if hidden_src:
                    el[j] = 0.0 if dropped else acc
        else:
            if hidden_src:
                el[:] = 0.0
            nzl = nz[aoff[l]:aoff[l + 1]]
            for i in range(nnz[l]):
                j = nzl[i]
                acc = _update_row(buf, center, s1, s2, wo + j * n_out, n_out, al[j], gl, opt,
                                  noshortcut, rho, eps, lr, mom, nesterov, l1, l2, lam)
                if hidden_src:
                    el[j] = acc
        if max_w2 < 3.4e38:
            _max_w2(buf, wo, n_in, n_out, gl, max_w2, r2)
        # biases: own gradient (H2O feeds the weights' mean g^2 to the bias ADADELTA: a quirk)
        bo = boff[l]
        for k in range(n_out):
            gb = gl[k]
            if gb == 0.0 and not noshortcut:
                continue
            b = buf[bo + k]
            grad = gb + l2 * b
            if l1 != 0.0:
                grad += l1 * (1.0 if b > 0.0 else (-1.0 if b < 0.0 else 0.0))
            if lam != 0.0:
                grad += lam * (b - center[bo + k])
            if opt == OPT_ADADELTA:
                eg = rho * buf[s1 + bo + k] + (1.0 - rho) * grad * grad
                edx = buf[s2 + bo + k]
                eta = np.sqrt((edx + eps) / (eg + eps))
                buf[s1 + bo + k] = eg
                buf[s2 + bo + k] = rho * edx + (1.0 - rho) * eta * eta * grad * grad
                buf[bo + k] = b - eta * grad
            elif opt == OPT_MOMENTUM:
                v = buf[s1 + bo + k]
                if nesterov:
                    v = mom * v - grad
                    buf[bo + k] = b + lr * v
                    buf[s1 + bo + k] = v
                else:
                    d = -lr * grad
                    buf[bo + k] = b + d + mom * v
                    buf[s1 + bo + k] = d
            else:
                buf[bo + k] = b - lr * grad
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


@njit(cache=True)
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


@njit(cache=True)
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
    lr_layer = np.zeros(nl, dtype=np.float64)
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed_state(seed, 0)
    fast = hp[HP_FAST_MODE] != 0.0
    num_start = int(hp[HP_NUM_START])
    processed0 = hp[HP_PROCESSED]
    out_lo = aoff[nl]
    n_out = mult[nl - 1] * units[nl]
    for i in range(start, stop):
        row = order[i]
        mom = 0.0
        if opt != OPT_ADADELTA:
            mom = _rates(hp, nl, processed0 + (i - start) * stride, lr_layer)
        nnz[0] = set_input(a[0:aoff[1]], nz[0:aoff[1]], nums, cats, row, num_start, fast,
                           hp[HP_INPUT_DROPOUT], state)
        forward(buf, units, mult, woff, boff, act, out_kind, ratios, a, z, keep, nz, nnz,
                aoff, zoff, fast, True, state)
        output_gradient(a[out_lo:out_lo + n_out], g[zoff[nl - 1]:zoff[nl]], n_out, out_kind,
                        loss, y[row], hp)
        backward(buf, center, units, mult, woff, boff, act, opt, hp, lr_layer, mom,
                 a, z, g, e, keep, nz, nnz, aoff, zoff, r2)
    return stop - start


@njit(cache=True, parallel=True)
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
