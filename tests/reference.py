"""A slow, plain-numpy, float64 reference of the network, written from H2O's specification.

Sources: ``h2o_dl_spec.md`` sections 1.3 (layers), 2 (initialization), 3 (per-row forward and
backward, dropout), 4 (ADADELTA, manual rate, momentum, L1/L2, max_w2), and H2O-3's
``Neurons.java`` (``bprop``, ``update_bias``, ``rescale_weights``) where the spec is silent.
Nothing here reads mpidl's code; the tests translate between this module's plain arrays and
mpidl's buffer (``tests/kernel_driver.py``).

Where mpidl deliberately differs from H2O (``docs/quirks.md``), this reference follows mpidl's
documented choice, and says so at the place:

- dropped hidden units get no gradient under every activation, masks are independent per
  layer, and scoring scales the input by ``1 - input_dropout_ratio`` too;
- mini-batches (mpidl's extension) feed the bias ADADELTA state the bias's own gradient
  squared; online steps follow H2O's rule (the mean g^2 of the unit's weight updates);
- the momentum ramps with the samples processed (H2O's training never ramps);
- softmax + Quadratic uses the full softmax Jacobian of ``1/2 sum (p - t)^2``;
- max_w2 scales by the exact ``sqrt(max_w2 / r2)`` (H2O: its approxSqrt, within 4 %);
- a Maxout channel is a unit of its own: without fast_mode's shortcut the losing channel takes
  the regularization / optimizer-state step with a zero data gradient (H2O leaves it alone).

A network is ``Net``: per weight layer ``l``, ``W[l]`` float64[n_out, n_in] in H2O's
orientation (destination rows; Maxout hidden layers have ``2 * units`` rows, channel ``c`` of
unit ``k`` at row ``2k + c``), ``b[l]`` float64[n_out], and the optimizer slots ``s1``/``s2``
shapes, listed ``[state of W_0, state of b_0, state of W_1, ...]`` (ADADELTA: E[g^2] in
``s1``, E[dx^2] in ``s2``; Adam: m, v; momentum: the velocity in ``s1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

F32_MAX = 3.4028235e38


@dataclass
class Config:
    """The hyper-parameters the reference needs, with H2O's names.

    ``optimizer``: "ADADELTA", "Adam", "momentum" or "plain" (manual rate without momentum).
    ``approx_dtype``: the float type of H2O's approxSqrt in the ADADELTA rate (float32 for a
    float32 model, float64 for a float64 one).
    """

    activation: str = "Tanh"             # Tanh, Rectifier or Maxout
    classification: bool = True
    loss: str = "CrossEntropy"           # CrossEntropy, Quadratic, Absolute, Huber, Quantile,
    optimizer: str = "ADADELTA"          # poisson, gamma, tweedie (deviance, log link)
    rho: float = 0.99
    epsilon: float = 1e-8
    rate: float = 0.005
    rate_annealing: float = 0.0
    rate_decay: float = 1.0
    momentum_start: float = 0.0
    momentum_ramp: float = 1e6
    momentum_stable: float = 0.0
    nesterov: bool = True
    l1: float = 0.0
    l2: float = 0.0
    max_w2: float = F32_MAX
    fast_mode: bool = True
    input_dropout: float = 0.0
    hidden_dropout: tuple = ()
    huber_delta: float = 1.0
    quantile_alpha: float = 0.5
    tweedie_power: float = 1.5
    ea_lambda: float = 0.0               # elastic averaging pull (0: off)
    beta1: float = 0.9
    beta2: float = 0.999
    approx_dtype: type = np.float32


@dataclass
class Net:
    """Weights, biases and optimizer slots per weight layer (see the module docstring)."""

    W: list
    b: list
    s1: list = field(default_factory=list)
    s2: list = field(default_factory=list)

    def copy(self) -> "Net":
        return Net(*[[x.copy() for x in part] for part in (self.W, self.b, self.s1, self.s2)])


@dataclass
class Masks:
    """Training dropout masks of one row: 1 kept, 0 dropped (None: no dropout there)."""

    input: np.ndarray | None = None
    hidden: list = field(default_factory=list)   # one per hidden layer, or None


# ------------------------------------------------------------------------- arithmetic
def approx_sqrt(x, dtype=np.float32) -> np.ndarray:
    """H2O's MathUtils.approxSqrt (spec 4.1) of ``x`` rounded to ``dtype``, as float64:
    float32 bits / 2 + 532483686; float64 ((bits >> 32) + 1072632448) << 31."""
    if dtype == np.float32:
        bits = np.asarray(x, dtype=np.float32).view(np.int32)
        return ((bits >> 1) + np.int32(532483686)).view(np.float32).astype(np.float64)
    bits = np.asarray(x, dtype=np.float64).view(np.int64)
    return (((bits >> 32) + 1072632448) << 31).view(np.float64)


def init_ranges(units, classification: bool, distribution: str, scale: float) -> list:
    """Per weight layer: (low, high) of the uniform draws, or ("normal", sd); spec section 2.

    UniformAdaptive: +-sqrt(6 / (fan_in + fan_out)) on unit counts without Maxout's x2, times 4
    on a classifier's output layer; Uniform: +-scale; Normal: N(0, scale^2).
    """
    out = []
    last = len(units) - 2
    for l in range(len(units) - 1):
        if distribution == "UniformAdaptive":
            r = np.sqrt(6.0 / (units[l] + units[l + 1])) * (4.0 if l == last and classification
                                                            else 1.0)
            out.append((-r, r))
        elif distribution == "Uniform":
            out.append((-scale, scale))
        else:
            out.append(("normal", scale))
    return out


def init_biases(units, activation: str) -> list:
    """Initial biases per weight layer (spec section 2): hidden Rectifier / Maxout 0.5 for the
    first layer and 1.0 later; Tanh 0; output 0 (one value per unit, Maxout channels alike)."""
    out = []
    for l in range(len(units) - 1):
        hidden = l < len(units) - 2
        v = (0.5 if l == 0 else 1.0) if hidden and activation in ("Rectifier", "Maxout") else 0.0
        out.append(v)
    return out


# ------------------------------------------------------------------------- forward
@dataclass
class Cache:
    """One row's forward pass: activations ``a[0..L+1]`` (a[0] the input as used),
    pre-activations ``z[0..L]`` of each weight layer's destination, hidden keep masks."""

    a: list
    z: list
    keep: list


def _hidden(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "Tanh":
        return np.tanh(z)
    if activation == "Rectifier":
        return np.maximum(z, 0.0)
    zz = z.reshape(-1, 2)
    return np.where(zz[:, 1] > zz[:, 0], zz[:, 1], zz[:, 0])   # first channel wins ties


def _output(z: np.ndarray, classification: bool) -> np.ndarray:
    if not classification:
        return z.copy()
    e = np.exp(z - z.max())
    return e / e.sum()


def forward(net: Net, cfg: Config, x: np.ndarray, masks: Masks | None = None,
            train: bool = False) -> Cache:
    """Forward pass of the assembled input ``x`` (float64[units0]); spec 1.3 and 3.5.

    Training applies ``masks`` (a dropped unit's activation is 0).  Scoring scales each
    hidden layer by ``1 - ratio`` and, as mpidl chose, the input by ``1 - input_dropout``.
    """
    nl = len(net.W)
    a0 = np.asarray(x, dtype=np.float64).copy()
    if train and masks is not None and masks.input is not None:
        a0 = a0 * masks.input
    elif not train:
        a0 = a0 * (1.0 - cfg.input_dropout)
    a, zs, keeps = [a0], [], []
    for l in range(nl):
        z = net.W[l] @ a[-1] + net.b[l]
        zs.append(z)
        if l == nl - 1:
            a.append(_output(z, cfg.classification))
            break
        h = _hidden(z, cfg.activation)
        ratio = cfg.hidden_dropout[l] if cfg.hidden_dropout else 0.0
        keep = np.ones(h.shape[0])
        if train and masks is not None and masks.hidden and masks.hidden[l] is not None:
            keep = np.asarray(masks.hidden[l], dtype=np.float64)
        a.append(h * keep if train else h * (1.0 - ratio))
        keeps.append(keep)
    return Cache(a=a, z=zs, keep=keeps)


# ------------------------------------------------------------------------- objective
def objective(out: np.ndarray, y: float, cfg: Config) -> float:
    """The per-row loss whose gradient ``output_gradient`` is (spec 3.1, 14)."""
    if cfg.classification:
        t = np.eye(out.shape[0])[int(y)]
        if cfg.loss == "CrossEntropy":
            return -np.log(out[int(y)])
        return 0.5 * ((out - t) ** 2).sum()
    f, r = out[0], abs(out[0] - y)
    if cfg.loss == "Quadratic":
        return r * r
    if cfg.loss == "Absolute":
        return r
    if cfg.loss == "Huber":
        d = cfg.huber_delta
        return r * r if r <= d else 2 * d * r - d * d
    if cfg.loss == "Quantile":
        al = cfg.quantile_alpha
        return al * (y - f) if y > f else (1 - al) * (f - y)
    if cfg.loss == "poisson":
        return 2 * (np.exp(f) - y * f)
    if cfg.loss == "gamma":
        return 2 * (y * np.exp(-f) + f)
    p = cfg.tweedie_power
    return 2 * (-y * np.exp(f * (1 - p)) / (1 - p) + np.exp(f * (2 - p)) / (2 - p))


def output_gradient(out: np.ndarray, y: float, cfg: Config) -> np.ndarray:
    """dE/dz at the output units (spec 3.1's table; exp capped at 1e19 as H2O)."""
    if cfg.classification:
        t = np.eye(out.shape[0])[int(y)]
        if cfg.loss == "CrossEntropy":
            return out - t
        d = out - t                      # full Jacobian of 1/2 sum (p - t)^2 (mpidl's choice)
        return out * (d - (d * out).sum())
    f = out[0]
    ex = lambda v: min(1e19, np.exp(v))  # noqa: E731
    if cfg.loss == "Quadratic":
        g = 2 * (f - y)
    elif cfg.loss == "Absolute":
        g = 1.0 if f > y else -1.0
    elif cfg.loss == "Huber":
        d = cfg.huber_delta
        g = 2 * (f - y) if abs(y - f) <= d else (2 * d if f >= y else -2 * d)
    elif cfg.loss == "Quantile":
        g = -cfg.quantile_alpha if y > f else 1 - cfg.quantile_alpha
    elif cfg.loss == "poisson":
        g = 2 * (ex(f) - y)
    elif cfg.loss == "gamma":
        g = 2 * (1 - y * ex(-f))
    else:
        p = cfg.tweedie_power
        g = 2 * (ex(f * (2 - p)) - y * ex(f * (1 - p)))
    return np.array([g])


def mean_objective(net: Net, cfg: Config, X: np.ndarray, Y: np.ndarray) -> float:
    """Mean loss over rows (no dropout) plus l1 |theta| + l2/2 theta^2 over every weight and
    bias: the objective whose gradient a plain-rate step follows (spec 4.3, 14)."""
    data = np.mean([objective(forward(net, cfg, X[i], train=True).a[-1], Y[i], cfg)
                    for i in range(len(Y))])
    theta = np.concatenate([p.ravel() for p in net.W + net.b])
    return data + cfg.l1 * np.abs(theta).sum() + 0.5 * cfg.l2 * (theta * theta).sum()


# ------------------------------------------------------------------------- backward
def _local_gradient(e: np.ndarray, a: np.ndarray, z: np.ndarray, keep: np.ndarray,
                    activation: str) -> np.ndarray:
    """dE/dz of a hidden layer from its error e = dE/da (spec 3.2); dropped units get 0."""
    e = e * keep
    if activation == "Tanh":
        return e * (1.0 - a * a)
    if activation == "Rectifier":
        return e * (a > 0)
    zz = z.reshape(-1, 2)
    win = (zz[:, 1] > zz[:, 0]).astype(int)
    g = np.zeros(z.shape[0])
    g[2 * np.arange(e.shape[0]) + win] = e
    return g


def layer_gradients(net: Net, cfg: Config, cache: Cache, y: float) -> list:
    """dE/dz of every weight layer's destination units, output first, each computed with the
    weights before any update (as H2O's bprop propagates with the pre-update weights)."""
    nl = len(net.W)
    g = [None] * nl
    g[nl - 1] = output_gradient(cache.a[-1], y, cfg)
    for l in range(nl - 1, 0, -1):
        e = net.W[l].T @ g[l]
        g[l - 1] = _local_gradient(e, cache.a[l], cache.z[l - 1], cache.keep[l - 1],
                                   cfg.activation)
    return g


def data_gradients(net: Net, cfg: Config, x, y, masks: Masks | None = None):
    """(dE/dW per layer, dE/db per layer, cache) of one row, data term only."""
    cache = forward(net, cfg, x, masks, train=True)
    g = layer_gradients(net, cfg, cache, y)
    return [np.outer(g[l], cache.a[l]) for l in range(len(g))], g, cache


# ------------------------------------------------------------------------- updates
def rates(cfg: Config, layer: int, processed: float, batch: int = 1) -> tuple:
    """(step size, momentum) of weight layer ``layer`` (0: input -> hidden 1) after
    ``processed`` samples (spec 4.2): rate * rate_decay^layer / (1 + rate_annealing N), times
    (1 - m) with m ramped linearly from momentum_start to momentum_stable over momentum_ramp
    samples (mpidl ramps; H2O's training does not).  Adam (mpidl's extension, docs/design.md)
    applies its bias correction in ``_optimizer_step`` at step t = N / batch + 1."""
    n = float(processed)
    mom = cfg.momentum_start
    if cfg.momentum_ramp > 0:
        mom += (cfg.momentum_stable - cfg.momentum_start) * min(n, cfg.momentum_ramp) \
            / cfg.momentum_ramp
    r = cfg.rate * cfg.rate_decay ** layer / (1.0 + cfg.rate_annealing * n) * (1.0 - mom)
    return r, mom


def _optimizer_step(cfg: Config, p, s1, s2, grad, lr, mom, t):
    """(p, s1, s2) after one step of the rule on every entry (spec 4.1, 4.2); ``t``: Adam's
    step count, from 1."""
    if cfg.optimizer == "ADADELTA":
        eg2 = cfg.rho * s1 + (1 - cfg.rho) * grad * grad
        dx = approx_sqrt((s2 + cfg.epsilon) / (eg2 + cfg.epsilon), cfg.approx_dtype) * grad
        return p - dx, eg2, cfg.rho * s2 + (1 - cfg.rho) * dx * dx
    if cfg.optimizer == "Adam":
        m = cfg.beta1 * s1 + (1 - cfg.beta1) * grad
        v = cfg.beta2 * s2 + (1 - cfg.beta2) * grad * grad
        m_hat, v_hat = m / (1 - cfg.beta1 ** t), v / (1 - cfg.beta2 ** t)
        return p - lr * m_hat / (np.sqrt(v_hat) + cfg.epsilon), m, v   # torch.optim.Adam
    if cfg.optimizer == "momentum":
        if cfg.nesterov:                       # accumulating velocity
            v = mom * s1 - grad
            return p + lr * v, v, s2
        step = -lr * grad                      # H2O's one-step memory
        return p + step + mom * s1, step, s2
    return p - lr * grad, s1, s2


def _update(cfg: Config, net: Net, kind: str, l: int, grad, where, lr, mom, center,
            t: float, fed=None) -> np.ndarray:
    """Apply the regularized step to ``net.<kind>[l]`` ("W" or "b") where ``where`` holds;
    ``t``: Adam's step count; ``fed``: under ADADELTA, what the state is fed in place of the
    squared gradient (H2O's bias rule, ``bias_fed``).  Returns the regularized gradient."""
    p = getattr(net, kind)[l]
    reg = grad + cfg.l1 * np.sign(p) + cfg.l2 * p
    if center is not None and cfg.ea_lambda:
        reg = reg + cfg.ea_lambda * (p - getattr(center, kind)[l])
    slot = 2 * l + (kind == "b")
    s1 = net.s1[slot] if net.s1 else np.zeros_like(p)
    s2 = net.s2[slot] if net.s2 else np.zeros_like(p)
    if fed is not None and cfg.optimizer == "ADADELTA":
        p1, t1, u1 = _bias_adadelta(cfg, p, s1, s2, reg, fed)
    else:
        p1, t1, u1 = _optimizer_step(cfg, p, s1, s2, reg, lr, mom, t)
    p[...] = np.where(where, p1, p)
    s1[...] = np.where(where, t1, s1)
    s2[...] = np.where(where, u1, s2)
    return reg


def _bias_adadelta(cfg: Config, b, s1, s2, grad, fed):
    """(b, E[g^2], E[dx^2]) after H2O's bias ADADELTA step (``Neurons.update_bias`` with
    ``computeAdaDeltaRateForBias``, spec 4.1): the state takes ``fed`` where the weights'
    rule takes g^2, the step is the rate times the bias's own gradient; the rate is H2O's
    double approxSqrt (biases and their state are doubles in H2O) whatever the model's type."""
    eg2 = cfg.rho * s1 + (1 - cfg.rho) * fed
    eta = approx_sqrt((s2 + cfg.epsilon) / (eg2 + cfg.epsilon), np.float64)
    return b - eta * grad, eg2, cfg.rho * s2 + (1 - cfg.rho) * eta * eta * fed


def bias_fed(reg_w: np.ndarray, where: np.ndarray) -> np.ndarray:
    """H2O's ``avg_grad2`` per destination unit (``Neurons.bprop``): the sum of the squared
    regularized gradients of the unit's weights updated in this row, over all its
    ``n_in`` weights.  reg_w, where: [n_out, n_in]."""
    return (np.where(where, reg_w, 0.0) ** 2).sum(axis=1) / reg_w.shape[1]


def _max_w2(W: np.ndarray, rows: np.ndarray, max_w2: float) -> None:
    """Rescale each row in ``rows`` whose squared norm exceeds max_w2 to norm^2 = max_w2
    (spec 4.6, with the exact square root: mpidl's choice)."""
    r2 = (W * W).sum(axis=1)
    big = rows & (r2 > max_w2)
    W[big] *= np.sqrt(max_w2 / r2[big])[:, None]


def online_step(net: Net, cfg: Config, x, y, masks: Masks | None = None,
                processed: float = 0, center: Net | None = None) -> Cache:
    """Train one row in place (spec 3.3, 4): every layer steps along its gradient at the
    pre-update weights, under fast_mode's shortcut (a destination unit with dE/dz == 0 is not
    touched) and skip (a weight whose source activation is 0 is not touched)."""
    dW, g, cache = data_gradients(net, cfg, x, y, masks)
    shortcut = cfg.fast_mode or (cfg.optimizer == "plain" and cfg.l1 == 0 and cfg.l2 == 0)
    for l in range(len(net.W)):
        lr, mom = rates(cfg, l, processed)
        rows = (g[l] != 0) if shortcut else np.ones(g[l].shape[0], dtype=bool)
        cols = (cache.a[l] != 0) if cfg.fast_mode else np.ones(cache.a[l].shape[0], dtype=bool)
        where = np.outer(rows, cols)
        reg = _update(cfg, net, "W", l, dW[l], where, lr, mom, center, processed + 1)
        _max_w2(net.W[l], rows, cfg.max_w2)
        _update(cfg, net, "b", l, g[l], rows, lr, mom, center, processed + 1,
                fed=bias_fed(reg, where))
    return cache


def batch_step(net: Net, cfg: Config, X, Y, masks: list | None = None, processed: float = 0,
               center: Net | None = None) -> None:
    """Train one mini-batch in place (mpidl's extension, docs/design.md): the batch-mean data
    gradient plus l1 / l2 / elastic terms once, every parameter updated, max_w2 on every unit."""
    n = len(Y)
    grads = [data_gradients(net, cfg, X[i], Y[i], masks[i] if masks else None)
             for i in range(n)]
    for l in range(len(net.W)):
        lr, mom = rates(cfg, l, processed, batch=n)
        gw = sum(gr[0][l] for gr in grads) / n
        gb = sum(gr[1][l] for gr in grads) / n
        _update(cfg, net, "W", l, gw, True, lr, mom, center, processed / n + 1)
        _max_w2(net.W[l], np.ones(gw.shape[0], dtype=bool), cfg.max_w2)
        _update(cfg, net, "b", l, gb, True, lr, mom, center, processed / n + 1)
