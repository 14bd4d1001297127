"""The training rules, once: what both drivers (``online.py``, one row at a time, and
``minibatch.py``, B rows at a time) apply to every weight and unit (spec sections 3-4).

Optimizer steps (ADADELTA with H2O's approxSqrt, Adam, momentum / Nesterov), the l1 / l2
gradient terms, the elastic-averaging pull, hidden activations and their derivatives,
softmax, the output layer's gradient for every loss, max_w2 rescaling, and the rate and
momentum schedules.  The drivers differ only in how they walk the data (sparse rows against
dense batches); the arithmetic is here.

The per-weight rules are ``inline="always"`` functions over scalars: they compile into the
driver's own loop, with the driver's fastmath flags, so a loop stays vectorizable and no
array crosses a call per weight (numba counts references of every array passed to a call,
an atomic on a cache line the Hogwild threads share).  Rules over a whole vector (softmax,
the output gradient, max_w2) are small compiled functions called once per row or layer.
"""

import numpy as np
from numba import njit

from .approx import approx_sqrt
from .codes import (
    ACT_MAXOUT, ACT_RELU, ACT_TANH, F_BETA1, F_BETA2, F_EPS, F_FAST, F_L1, F_L2, F_LAM,
    F_MAXW2, F_NESTEROV, F_ONE, F_ONE_BETA1, F_ONE_BETA2, F_ONE_RHO, F_RHO, F_SIZE, HP_ANNEAL,
    HP_AVERAGE_ACTIVATION, HP_BETA1, HP_BETA2, HP_DECAY, HP_EA_LAMBDA, HP_EPS, HP_FAST_MODE,
    HP_HUBER_DELTA, HP_L1, HP_L2, HP_MAX_W2, HP_MOM_RAMP, HP_MOM_STABLE, HP_MOM_START,
    HP_NESTEROV, HP_QUANTILE_ALPHA, HP_RATE, HP_RHO, HP_SPARSITY_BETA, HP_TWEEDIE_POWER,
    LOSS_ABSOLUTE, LOSS_CROSSENTROPY, LOSS_GAMMA, LOSS_HUBER, LOSS_POISSON, LOSS_QUADRATIC,
    LOSS_QUANTILE, OPT_ADADELTA, OPT_ADAM, OPT_MOMENTUM, OUT_AUTOENCODER,
    OUT_SOFTMAX,
)

# fastmath flags of every kernel loop (no inf/nan assumptions: those would change results)
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_VEC = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


# ----------------------------------------------------------------- per-weight rules (inlined)
@njit(inline="always", error_model="numpy")
def regularized(grad, wk, l1, l2, zero):
    """A weight's data gradient plus l1 sign(w) + l2 w (spec 4.5)."""
    return grad + l2 * wk + (l1 if wk > zero else (-l1 if wk < zero else zero))


@njit(inline="always", error_model="numpy")
def elastic(grad, wk, ck, lam):
    """The gradient plus the elastic-averaging pull lambda (w - c) towards the consensus c."""
    return grad + lam * (wk - ck)


@njit(inline="always", error_model="numpy")
def adadelta(wk, grad, e0, d0, rho, one_rho, eps):
    """One ADADELTA step (spec 4.1): returns (E[g^2], E[dx^2], w) after the update."""
    eg2 = rho * e0 + one_rho * grad * grad
    dx = approx_sqrt((d0 + eps) / (eg2 + eps)) * grad
    return eg2, rho * d0 + one_rho * dx * dx, wk - dx


@njit(inline="always", error_model="numpy")
def adadelta_bias(bk, grad, fed, e0, d0, rho, one_rho, eps):
    """H2O's bias ADADELTA step (spec 4.1): the state is fed ``fed``, the mean g^2 of the
    unit's incoming weight updates, in place of the bias's own g^2; the step follows the
    bias's gradient ``grad``.  Returns (E[g^2], E[dx^2], b) after the update."""
    eg2 = rho * e0 + one_rho * fed
    eta = approx_sqrt((d0 + eps) / (eg2 + eps))
    return eg2, rho * d0 + one_rho * eta * eta * fed, bk - eta * grad


@njit(inline="always", error_model="numpy")
def adam(wk, grad, m0, v0, lr, b1, one_b1, b2, one_b2, eps):
    """One Adam step with the bias correction folded into ``lr``: returns (m, v, w) after it."""
    m1 = b1 * m0 + one_b1 * grad
    v1 = b2 * v0 + one_b2 * grad * grad
    return m1, v1, wk - lr * m1 / (np.sqrt(v1) + eps)


@njit(inline="always", error_model="numpy")
def momentum(wk, grad, v0, lr, mom, nesterov):
    """Manual rate with momentum (spec 4.2): returns (v, w) after the step; Nesterov-style
    accumulating velocity, or H2O's one-step form."""
    if nesterov:
        v1 = mom * v0 - grad
        return v1, wk + lr * v1
    v1 = -lr * grad
    return v1, wk + v1 + mom * v0


# ------------------------------------------------------------ per-unit rules (inlined)
@njit(inline="always", error_model="numpy")
def channels(act):
    """Pre-activations per hidden unit: 2 for Maxout (channels 2k, 2k+1), else 1."""
    return 2 if act == ACT_MAXOUT else 1


@njit(inline="always", error_model="numpy")
def hidden_value(act, za, zb):
    """A hidden unit's activation from its pre-activation ``za`` (Maxout: channels ``za``,
    ``zb``; the others ignore ``zb``)."""
    if act == ACT_TANH:
        return np.tanh(za)
    if act == ACT_RELU:
        return za if za > 0.0 else 0.0
    return za if za >= zb else zb


@njit(inline="always", error_model="numpy")
def hidden_slope_times(act, ek, ak):
    """dE/dz of a Tanh or Rectifier unit from its error dE/da ``ek`` and activation ``ak``."""
    if act == ACT_TANH:
        return ek * (1.0 - ak * ak)
    return ek if ak > 0.0 else 0.0


@njit(inline="always", error_model="numpy")
def maxout_winner(za, zb):
    """The Maxout channel (0 or 1) that produced the activation; it alone gets the error."""
    return 0 if za >= zb else 1


# -------------------------------------------------------------- vector rules (small calls)
@njit(**_VEC)
def softmax(z, p, n):
    """p[:n] <- softmax(z[:n]) (max-shifted)."""
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


@njit(inline="always", error_model="numpy")
def link_gradient(f, y, loss, hp):
    """dE/df of one linear (or reconstructed) output ``f`` for target ``y`` (spec 3.1):
    gaussian (f-y)^2, laplace |f-y|, huber (delta = hp), quantile pinball, poisson / gamma /
    tweedie deviance with log link (f is the link-space output)."""
    if loss == LOSS_QUADRATIC:
        return 2.0 * (f - y)
    if loss == LOSS_ABSOLUTE:
        return 1.0 if f > y else -1.0
    if loss == LOSS_HUBER:
        d = hp[HP_HUBER_DELTA]
        if abs(y - f) <= d:
            return 2.0 * (f - y)
        return 2.0 * d if f >= y else -2.0 * d
    if loss == LOSS_QUANTILE:
        alpha = hp[HP_QUANTILE_ALPHA]
        return -alpha if y > f else 1.0 - alpha
    if loss == LOSS_POISSON:
        return 2.0 * (min(1e19, np.exp(f)) - y)
    if loss == LOSS_GAMMA:
        return 2.0 * (1.0 - y * min(1e19, np.exp(-f)))
    p = hp[HP_TWEEDIE_POWER]
    return 2.0 * (min(1e19, np.exp(f * (2.0 - p))) - y * min(1e19, np.exp(f * (1.0 - p))))


@njit(**_VEC)
def output_gradient(out, g, n_out, out_kind, loss, y, hp):
    """dE/dz of the output layer into ``g[n_out]`` for target ``y`` (spec 3.1).

    Objectives: CrossEntropy -log p_y; Quadratic (softmax) 1/2 sum (p - t)^2 with the full
    softmax Jacobian; linear: ``link_gradient``.  Not for the autoencoder
    (``reconstruction_gradient``).
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
    g[0] = link_gradient(out[0], y, loss, hp)


@njit(**_VEC)
def reconstruction_gradient(out, target, g, n_out, loss, hp):
    """The autoencoder's output gradient into ``g[n_out]``: ``link_gradient`` of each
    reconstructed input ``out[k]`` against the clean input ``target[k]`` (before input
    dropout), fed to the output layer as dE/dz without the output activation's derivative
    (H2O's ``autoEncoderGradient`` / ``bpropOutputLayer``, spec 3.1 and 11)."""
    for k in range(n_out):
        g[k] = link_gradient(out[k], target[k], loss, hp)


@njit(**_VEC)
def output_values(z, out, n_out, out_kind, act):
    """The output layer's activations ``out[:n_out]`` from its pre-activations ``z``:
    softmax, the linear output (one unit), or the autoencoder's hidden activation ``act``."""
    if out_kind == OUT_SOFTMAX:
        softmax(z, out, n_out)
    elif out_kind == OUT_AUTOENCODER:
        for k in range(n_out):
            out[k] = hidden_value(act, z[k], z[k])
    else:
        out[0] = z[0]


@njit(**_VEC)
def running_activation(avg, a, n):
    """avg[:n] <- 0.999 avg + 0.001 a: the sparsity running mean of a hidden layer's
    activations ``a[:n]`` after a training row's forward pass (spec 4.5)."""
    for k in range(n):
        avg[k] = 0.999 * avg[k] + 0.001 * a[k]


@njit(**_VEC)
def sparsity_bias_gradient(g, avg, gb, n, hp):
    """gb[:n] <- a hidden layer's bias gradient: the data gradient ``g`` plus H2O's sparsity
    pull beta (avg_a - average_activation) (spec 4.4: H2O subtracts rate times the pull after
    the bias update; mpidl adds it to the gradient, the same step under a manual rate)."""
    beta, target = hp[HP_SPARSITY_BETA], hp[HP_AVERAGE_ACTIVATION]
    for k in range(n):
        gb[k] = g[k] + beta * (avg[k] - target)


@njit(**_VEC)
def max_w2_rescale(buf, wo, n_in, n_out, gl, every, max_w2, r2):
    """Rescale each updated destination unit whose incoming squared norm exceeds max_w2 (spec
    4.6); the (n_in x n_out) in-major matrix sits at ``buf[wo:]``, ``r2[n_out]`` is scratch.

    Updated: ``gl[k] != 0``, or ``every`` unit when fast_mode's shortcut is off (H2O's bprop
    visits and rescales every unit then, Neurons.java ``bprop`` / ``rescale_weights``).
    """
    w = buf[wo:wo + n_in * n_out].reshape((n_in, n_out))
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


# ---------------------------------------------------------------- schedules and scalars
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
def step_rates(hp, opt, n_layers, processed, batch, lr_layer, f):
    """Per-layer step sizes and momentum for the update after ``processed`` samples, taken in
    mini-batches of ``batch`` rows (1 online): ``_rates``, times Adam's bias correction
    sqrt(1 - beta2^t) / (1 - beta1^t) at step t = processed / batch + 1 under Adam.

    Under Adam ``f[F_EPS]`` (the typed scalars) becomes epsilon * sqrt(1 - beta2^t), so that
    the folded step lr_t m / (sqrt(v) + eps_t) equals torch.optim.Adam's (Kingma & Ba's
    Algorithm 1) lr m_hat / (sqrt(v_hat) + epsilon), epsilon added to the corrected sqrt(v).
    """
    mom = _rates(hp, n_layers, processed, lr_layer)
    if opt == OPT_ADAM:
        t = processed / batch + 1.0
        root = np.sqrt(1.0 - hp[HP_BETA2] ** t)
        corr = root / (1.0 - hp[HP_BETA1] ** t)
        for l in range(n_layers):
            lr_layer[l] *= corr
        f[F_EPS] = hp[HP_EPS] * root
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
