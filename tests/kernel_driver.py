"""The one place the reference tests call mpidl's training kernels and read its buffer.

Translates ``tests/reference.py``'s ``Config`` and ``Net`` into the kernels' arguments (codes,
hyper-parameter vector, flat buffer) and back, and runs the online and mini-batch kernels on
one thread (reproducible mode) over given rows.
"""

from __future__ import annotations

import numpy as np

from mpidl.kernels import codes as C
from mpidl.kernels import minibatch, online, scoring
from mpidl.kernels import bundles
from mpidl.model.network import Layout, activation_code, init_buffer

from reference import Config, Net

_OPT = {"ADADELTA": C.OPT_ADADELTA, "Adam": C.OPT_ADAM, "momentum": C.OPT_MOMENTUM,
        "plain": C.OPT_PLAIN}
_SLOTS = {"ADADELTA": 2, "Adam": 2, "momentum": 1, "plain": 0}
_LOSS = {"CrossEntropy": C.LOSS_CROSSENTROPY, "Quadratic": C.LOSS_QUADRATIC,
         "Absolute": C.LOSS_ABSOLUTE, "Huber": C.LOSS_HUBER, "Quantile": C.LOSS_QUANTILE,
         "poisson": C.LOSS_POISSON, "gamma": C.LOSS_GAMMA, "tweedie": C.LOSS_TWEEDIE}
LOSS_NAMES = {code: name for name, code in _LOSS.items()}


def layout(units, cfg: Config) -> Layout:
    return Layout(units=tuple(units), activation=cfg.activation,
                  classification=cfg.classification, slots=_SLOTS[cfg.optimizer])


def new_buffer(lay: Layout, dtype, seed: int = 3, scale: float = 0.5) -> np.ndarray:
    """mpidl's initialized buffer, with small random optimizer state when it has slots (so a
    test sees the state enter the update), in ``dtype``."""
    buf = init_buffer(lay, "Normal", scale, seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    p = lay.n_params
    buf[:p] += rng.normal(0, 0.1, p).astype(dtype)
    return buf


def hyper(cfg: Config, processed: float, num_start: int) -> np.ndarray:
    """float64[HP_SIZE]: the kernels' hyper-parameter vector for ``cfg``."""
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RHO], hp[C.HP_EPS] = cfg.rho, cfg.epsilon
    hp[C.HP_RATE], hp[C.HP_ANNEAL], hp[C.HP_DECAY] = cfg.rate, cfg.rate_annealing, cfg.rate_decay
    hp[C.HP_MOM_START], hp[C.HP_MOM_RAMP] = cfg.momentum_start, cfg.momentum_ramp
    hp[C.HP_MOM_STABLE], hp[C.HP_NESTEROV] = cfg.momentum_stable, float(cfg.nesterov)
    hp[C.HP_L1], hp[C.HP_L2], hp[C.HP_MAX_W2] = cfg.l1, cfg.l2, cfg.max_w2
    hp[C.HP_INPUT_DROPOUT], hp[C.HP_EA_LAMBDA] = cfg.input_dropout, cfg.ea_lambda
    hp[C.HP_HUBER_DELTA], hp[C.HP_QUANTILE_ALPHA] = cfg.huber_delta, cfg.quantile_alpha
    hp[C.HP_TWEEDIE_POWER], hp[C.HP_PROCESSED] = cfg.tweedie_power, processed
    hp[C.HP_FAST_MODE], hp[C.HP_NUM_START] = float(cfg.fast_mode), num_start
    hp[C.HP_BETA1], hp[C.HP_BETA2] = cfg.beta1, cfg.beta2
    return hp


def _net(lay: Layout, cfg: Config) -> bundles.Net:
    woff, boff = lay.offsets()
    ratios = np.zeros(max(1, lay.n_layers - 1))
    ratios[:len(cfg.hidden_dropout)] = cfg.hidden_dropout
    return bundles.Net(np.array(lay.units, dtype=np.int64), lay.mult, woff, boff,
                       activation_code(cfg.activation),
                       C.OUT_SOFTMAX if cfg.classification else C.OUT_LINEAR, ratios)


def _objective(cfg: Config, processed: float, num_start: int) -> bundles.Objective:
    return bundles.Objective(_LOSS[cfg.loss], _OPT[cfg.optimizer],
                             hyper(cfg, processed, num_start))


def to_net(lay: Layout, buf: np.ndarray) -> Net:
    """The reference's float64 copy of mpidl's buffer (H2O orientation, slots interleaved)."""
    nl = lay.n_layers
    W = [lay.weights(buf, l).astype(np.float64) for l in range(nl)]
    b = [lay.biases(buf, l).astype(np.float64) for l in range(nl)]
    slots = []
    for k in range(1, lay.slots + 1):
        s = lay.slot(buf, k)
        slots.append([x for l in range(nl) for x in
                      (lay.weights(s, l).astype(np.float64), lay.biases(s, l).astype(np.float64))])
    return Net(W, b, *slots)


def flat(net: Net) -> np.ndarray:
    """All weights, biases and slots of ``net`` in one float64 vector (for comparisons)."""
    parts = [x for pair in zip(net.W, net.b) for x in pair] + net.s1 + net.s2
    return np.concatenate([p.ravel() for p in parts])


def dense_inputs(nums, cats, num_start: int, n_in: int) -> np.ndarray:
    """float64[n, n_in]: the kernels' (nums, cats) row encoding as full input vectors (spec 1.2,
    final assembly: 1.0 at each categorical slot >= 0, numerics from ``num_start``)."""
    X = np.zeros((nums.shape[0], n_in))
    for i in range(nums.shape[0]):
        for s in cats[i]:
            if s >= 0:
                X[i, s] = 1.0
        X[i, num_start:num_start + nums.shape[1]] = nums[i]
    return X


def train_online(buf, lay, cfg, data, stop: int, seed: int = 7, processed: float = 0,
                 center=None) -> int:
    """Online Hogwild kernel on one thread (reproducible mode): rows ``order[0:stop]`` of
    ``data = (nums, cats, y, order, num_start)`` on ``buf`` in place."""
    nums, cats, y, order, num_start = data
    c = np.zeros(1, buf.dtype) if center is None else center
    return online.train_hogwild(_net(lay, cfg), _objective(cfg, processed, num_start), buf, c,
                                bundles.Rows(nums, cats, y), np.ascontiguousarray(order[:stop]),
                                1, np.array([seed]))


def train_minibatch(buf, lay, cfg, data, stop: int, batch: int, seed: int = 7,
                    processed: float = 0, center=None) -> int:
    """Mini-batch kernel, one thread, batches of ``batch``: rows ``order[0:stop]``."""
    nums, cats, y, order, num_start = data
    c = np.zeros(1, buf.dtype) if center is None else center
    return minibatch.train_minibatch(_net(lay, cfg), _objective(cfg, processed, num_start), buf,
                                     c, bundles.Rows(nums, cats, y), order[:stop], batch, 1,
                                     np.array([seed]))


def score(buf, lay, cfg, nums, cats, num_start: int, blocks: bool = False) -> np.ndarray:
    """Test-time outputs float64[n, n_out] from the row or the block scoring kernel."""
    args = (_net(lay, cfg), buf, cfg.input_dropout, num_start, nums, cats)
    if blocks:
        return scoring.predict_blocks(*args, 1, block=4)
    return scoring.predict_rows(*args, 1)
