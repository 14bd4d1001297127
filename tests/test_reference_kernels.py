"""The online and mini-batch kernels against the independent reference (tests/reference.py),
row by row: one thread, the same rows in the same order, and after every row (every batch)
all weights, biases and optimizer state compared with the reference's.

Tolerances: a float64 model runs the kernels' arithmetic in float64, so only the summation
order differs (``fastmath`` reassociation): rtol 1e-9.  ADADELTA's rate is H2O's approxSqrt,
which the kernels compute bit for bit (tests/test_kernels.py checks the bit trick), applied by
the reference to the same ratio rounded to the model's dtype; its output steps at the input's
last kept bit, so a float32 model differs from the float64 reference by float32 rounding
(~6e-8 per operation, a few dozen dependent operations per row, a few rows): rtol 1e-5 with an
absolute floor of 1e-6 for entries that pass near 0.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernel_driver as KD
import reference as R

UNITS_CAT, NUM_START = 5, 5          # two categorical blocks (slots 0-2, 3-4), then 3 numerics
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=1e-5, atol=1e-6)}


def rows(classification: bool, n: int = 6, seed: int = 0, positive: bool = False):
    """(nums, cats, y, order, num_start): ``n`` rows with exact zeros among the numerics, a
    missing categorical slot (-1) and a shuffled visiting order."""
    rng = np.random.default_rng(seed)
    nums = rng.normal(size=(n, 3))
    nums[rng.random((n, 3)) < 0.25] = 0.0
    cats = np.stack([rng.integers(-1, 3, n), rng.integers(3, 5, n)], axis=1).astype(np.int32)
    if classification:
        y = rng.integers(0, 3, n).astype(np.float64)
    else:
        y = rng.uniform(0.3, 2.0, n) if positive else rng.normal(size=n)
    return nums, cats, y, rng.permutation(n), NUM_START


SCENARIOS = {
    # name: (units, Config overrides)
    "tanh_adadelta": ((8, 4, 3, 3), dict(activation="Tanh")),
    "relu_adadelta_l1l2": ((8, 5, 3), dict(activation="Rectifier", l1=1e-3, l2=1e-2)),
    "maxout_adadelta": ((8, 4, 3, 3), dict(activation="Maxout")),
    "softmax_quadratic": ((8, 4, 3), dict(loss="Quadratic")),
    "no_fast_mode": ((8, 4, 3), dict(activation="Rectifier", fast_mode=False, l2=1e-3)),
    "maxout_no_fast_mode": ((8, 3, 3), dict(activation="Maxout", fast_mode=False, l1=1e-3)),
    "max_w2": ((8, 5, 3), dict(activation="Rectifier", max_w2=0.3, optimizer="plain",
                               rate=0.05)),
    "max_w2_no_fast_mode": ((8, 5, 3), dict(activation="Rectifier", max_w2=0.3,
                                            fast_mode=False, l2=1e-3)),
    "plain_annealing_decay": ((8, 4, 3, 3), dict(optimizer="plain", rate=0.05,
                                                 rate_annealing=1e-2, rate_decay=0.5)),
    "nesterov_ramp": ((8, 4, 3), dict(optimizer="momentum", rate=0.05, momentum_start=0.2,
                                      momentum_ramp=8, momentum_stable=0.9)),
    "momentum_one_step": ((8, 4, 3), dict(optimizer="momentum", rate=0.05, nesterov=False,
                                          momentum_start=0.5, momentum_ramp=0,
                                          momentum_stable=0.9, l2=1e-3)),
    "adam": ((8, 4, 3), dict(optimizer="Adam", rate=0.01, epsilon=1e-6, rate_annealing=1e-3)),
    "elastic_pull": ((8, 4, 3), dict(activation="Tanh", ea_lambda=0.3)),
    "regression_quadratic": ((8, 4, 1), dict(classification=False, loss="Quadratic")),
    "absolute": ((8, 4, 1), dict(classification=False, loss="Absolute")),
    "huber": ((8, 4, 1), dict(classification=False, loss="Huber", huber_delta=0.4)),
    "quantile": ((8, 4, 1), dict(classification=False, loss="Quantile", quantile_alpha=0.3)),
    "poisson": ((8, 4, 1), dict(classification=False, loss="poisson")),
    "gamma": ((8, 4, 1), dict(classification=False, loss="gamma")),
    "tweedie": ((8, 4, 1), dict(classification=False, loss="tweedie", tweedie_power=1.4)),
}
PROCESSED0 = 5                         # samples done before the first row (annealing, ramps)


def _setup(name, dtype):
    units, kw = SCENARIOS[name]
    cfg = R.Config(approx_dtype=dtype, **kw)
    lay = KD.layout(units, cfg)
    buf = KD.new_buffer(lay, dtype)
    if "max_w2" in name:
        # a dead first hidden unit whose incoming weights break the max_w2 bound
        lay.biases(buf, 0)[0] = -50.0
        lay.weights(buf, 0)[0, :] = 0.6
    center = None
    if cfg.ea_lambda:
        center = buf.copy()
        center[:lay.n_params] -= np.linspace(-0.2, 0.3, lay.n_params).astype(dtype)
    data = rows(cfg.classification, positive=cfg.loss in ("poisson", "gamma", "tweedie"))
    return cfg, lay, buf, center, data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", SCENARIOS)
def test_online_kernel_follows_the_reference_row_by_row(name, dtype):
    cfg, lay, buf0, center, data = _setup(name, dtype)
    nums, cats, y, order, _ = data
    X = KD.dense_inputs(nums, cats, NUM_START, lay.units[0])
    ref = KD.to_net(lay, buf0)
    ref_center = KD.to_net(lay, center) if center is not None else None
    for k in range(1, len(order) + 1):
        buf = buf0.copy()
        assert KD.train_online(buf, lay, cfg, data, k, processed=PROCESSED0, center=center) == k
        row = order[k - 1]
        R.online_step(ref, cfg, X[row], y[row], processed=PROCESSED0 + k - 1, center=ref_center)
        np.testing.assert_allclose(KD.flat(KD.to_net(lay, buf)), KD.flat(ref), **TOL[dtype],
                                   err_msg=f"{name}: after row {k}")


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", [n for n in SCENARIOS if "fast_mode" not in n])
def test_minibatch_kernel_follows_the_reference_batch_by_batch(name, dtype, batch):
    cfg, lay, buf0, center, data = _setup(name, dtype)
    nums, cats, y, order, _ = data
    X = KD.dense_inputs(nums, cats, NUM_START, lay.units[0])
    ref = KD.to_net(lay, buf0)
    ref_center = KD.to_net(lay, center) if center is not None else None
    for k in range(batch, len(order) + 1, batch):
        buf = buf0.copy()
        KD.train_minibatch(buf, lay, cfg, data, k, batch, processed=PROCESSED0, center=center)
        idx = order[k - batch:k]
        R.batch_step(ref, cfg, X[idx], y[idx], processed=PROCESSED0 + k - batch,
                     center=ref_center)
        np.testing.assert_allclose(KD.flat(KD.to_net(lay, buf)), KD.flat(ref), **TOL[dtype],
                                   err_msg=f"{name}: after row {k}")


# ------------------------------------------------------------------------- dropout
DROPOUT = {
    # name: (units, Config overrides); l1 = l2 = 0 so an untouched parameter keeps its value
    "tanh_input_and_hidden": ((8, 6, 6, 3), dict(activation="Tanh", input_dropout=0.2,
                                                 hidden_dropout=(0.5, 0.3))),
    "rectifier_hidden": ((8, 7, 3), dict(activation="Rectifier", hidden_dropout=(0.4,))),
    "maxout_hidden": ((8, 6, 3), dict(activation="Maxout", hidden_dropout=(0.5,))),
}


def _masks_from_changes(lay, cfg, before, after, x) -> R.Masks:
    """The masks the kernel drew for one row, read off which parameters it changed.

    A kept unit's incoming weights and bias move (its dE/dz is not 0); a dropped unit gets no
    gradient and keeps them.  A kept Rectifier unit that is inactive also keeps them, and
    behaves exactly as a dropped one (activation 0, no gradient), so either reading gives the
    same step.  An input slot is kept when a weight leaving it moved (Tanh: every kept
    hidden unit has a gradient); a zero input has nothing to drop.
    """
    nb, na = KD.to_net(lay, before), KD.to_net(lay, after)
    hidden = []
    for l in range(lay.n_layers - 1):
        moved = (nb.W[l] != na.W[l]).any(axis=1) | (nb.b[l] != na.b[l])
        hidden.append(moved.reshape(-1, 2).any(axis=1) if cfg.activation == "Maxout" else moved)
    inp = None
    if cfg.input_dropout:
        inp = (nb.W[0] != na.W[0]).any(axis=0) | (x == 0)
    return R.Masks(input=inp, hidden=[h.astype(float) for h in hidden])


def _dropout_run(name, dtype, step_kernel, step_reference):
    """Row by row: the kernel's step, its masks read off, the reference's step with them."""
    units, kw = DROPOUT[name]
    cfg = R.Config(approx_dtype=dtype, **kw)
    lay = KD.layout(units, cfg)
    buf0 = KD.new_buffer(lay, dtype)
    data = rows(True, n=8, seed=4)
    nums, cats, y, order, _ = data
    X = KD.dense_inputs(nums, cats, NUM_START, lay.units[0])
    ref, prev, masks = KD.to_net(lay, buf0), buf0, []
    for k in range(1, len(order) + 1):
        buf = buf0.copy()
        step_kernel(buf, lay, cfg, data, k)
        row = order[k - 1]
        m = _masks_from_changes(lay, cfg, prev, buf, X[row])
        step_reference(ref, cfg, X[row], y[row], m, PROCESSED0 + k - 1)
        np.testing.assert_allclose(KD.flat(KD.to_net(lay, buf)), KD.flat(ref), **TOL[dtype],
                                   err_msg=f"{name}: after row {k}")
        prev = buf
        masks.append(m)
    dropped = np.mean([1 - h.mean() for m in masks for h in m.hidden])
    assert 0.1 < dropped < 0.8          # units really are dropped in training
    if len(cfg.hidden_dropout) == 2:    # independent masks per layer (H2O: the same seed)
        assert any(not np.array_equal(m.hidden[0], m.hidden[1]) for m in masks)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", DROPOUT)
def test_online_dropout_follows_the_reference(name, dtype):
    _dropout_run(name, dtype,
                 lambda buf, lay, cfg, data, k: KD.train_online(buf, lay, cfg, data, k,
                                                                processed=PROCESSED0),
                 lambda net, cfg, x, y, m, n: R.online_step(net, cfg, x, y, m, processed=n))


@pytest.mark.parametrize("name", DROPOUT)
def test_minibatch_dropout_follows_the_reference(name):
    _dropout_run(name, np.float64,
                 lambda buf, lay, cfg, data, k: KD.train_minibatch(buf, lay, cfg, data, k, 1,
                                                                   processed=PROCESSED0),
                 lambda net, cfg, x, y, m, n: R.batch_step(net, cfg, x[None], [y], [m],
                                                           processed=n))


# ------------------------------------------------------------------------- fast_mode
@pytest.mark.parametrize("fast_mode", [True, False])
def test_fast_mode_leaves_zero_inputs_and_inactive_units_untouched(fast_mode):
    """One row through a Rectifier net with l2 and ADADELTA state: under fast_mode the weights
    leaving a zero input, the incoming weights and bias of an inactive unit and the weights
    leaving it keep their values AND their optimizer state bit for bit (spec 3.3 (i), (ii));
    without fast_mode l2 and the ADADELTA decay move every one of them."""
    cfg = R.Config(activation="Rectifier", l2=1e-2, fast_mode=fast_mode)
    lay = KD.layout((4, 3, 2), cfg)
    buf = KD.new_buffer(lay, np.float32)
    buf[lay.n_params:] = 0.01
    lay.biases(buf, 0)[1] = -50.0                       # hidden unit 1 inactive on this row
    data = (np.array([[0.5, 0.0, -1.0, 0.0]]), np.zeros((1, 0), np.int32), np.array([1.0]),
            np.array([0]), 0)
    before = KD.to_net(lay, buf)
    KD.train_online(buf, lay, cfg, data, 1)
    after = KD.to_net(lay, buf)
    zero_in, dead = [1, 3], 1
    for slot in ("W", "s1", "s2"):                      # weights, E[g^2], E[dx^2]
        w0_b, w0_a = _layer(before, slot, 0, "W"), _layer(after, slot, 0, "W")
        w1_b, w1_a = _layer(before, slot, 1, "W"), _layer(after, slot, 1, "W")
        kept = [w0_b[:, zero_in] == w0_a[:, zero_in], w0_b[dead] == w0_a[dead],
                w1_b[:, dead] == w1_a[:, dead],
                _layer(before, slot, 0, "b")[dead] == _layer(after, slot, 0, "b")[dead]]
        for same in kept:
            assert np.all(same) if fast_mode else not np.any(same), slot
        # the live unit's weights from the non-zero inputs move either way
        assert not np.any(w0_b[0, [0, 2]] == w0_a[0, [0, 2]])


def _layer(net: R.Net, slot: str, l: int, kind: str) -> np.ndarray:
    """W / b of layer ``l`` (slot "W"), or its state in optimizer slot "s1" / "s2"."""
    if slot == "W":
        return getattr(net, kind)[l]
    return getattr(net, slot)[2 * l + (kind == "b")]
