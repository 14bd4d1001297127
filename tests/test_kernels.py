"""The online kernel's updates are exact gradient steps: checked against finite differences.

With a manual rate r, no momentum and no annealing, one training row moves every parameter
by -r * dE/dtheta (each layer updates with the upper layers' pre-update weights, as H2O), so
(theta_before - theta_after) / r is the kernel's gradient.  It is compared, in float64, with
central differences of the objective computed by the independent reference
(``tests/reference.py``: its forward pass and its losses, written from H2O's spec).
"""

import numpy as np
import pytest

from mpidl.kernels import codes as C
from mpidl.kernels import minibatch, online, scoring
from mpidl.kernels.bundles import Net, Objective, Rows
from mpidl.model.network import Layout, activation_code, init_buffer

import kernel_driver as KD
import reference as R

ACTIVATIONS = ["Tanh", "Rectifier", "Maxout"]
CLASS_LOSSES = [C.LOSS_CROSSENTROPY, C.LOSS_QUADRATIC]
REG_LOSSES = [C.LOSS_QUADRATIC, C.LOSS_ABSOLUTE, C.LOSS_HUBER, C.LOSS_QUANTILE,
              C.LOSS_POISSON, C.LOSS_GAMMA, C.LOSS_TWEEDIE]


def _setup(activation, classification, fast_mode, l1, l2):
    n_out = 3 if classification else 1
    lay = Layout(units=(5, 4, 3, n_out), activation=activation, classification=classification,
                 slots=0)
    buf = init_buffer(lay, "Normal", 0.5, 3, dtype=np.float64)
    buf += np.random.default_rng(1).normal(0, 0.1, buf.shape)
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RATE], hp[C.HP_DECAY] = 1e-6, 1.0
    hp[C.HP_L1], hp[C.HP_L2] = l1, l2
    hp[C.HP_MAX_W2] = 3.4028235e38
    hp[C.HP_HUBER_DELTA], hp[C.HP_QUANTILE_ALPHA], hp[C.HP_TWEEDIE_POWER] = 0.5, 0.3, 1.5
    hp[C.HP_NUM_START] = 2
    hp[C.HP_FAST_MODE] = float(fast_mode)
    return lay, buf, hp


def _kernel_and_fd_gradients(activation, classification, loss, train, nums, cats, y,
                             fast_mode=False, l1=1e-3, l2=1e-2):
    """(kernel gradient, central-difference gradient) of the mean objective over the rows.

    ``train(buf, (net, objective, rows))`` applies one plain-rate step to ``buf`` in place.
    """
    lay, buf, hp = _setup(activation, classification, fast_mode, l1, l2)
    woff, boff = lay.offsets()
    net = (np.array(lay.units, dtype=np.int64), lay.mult, woff, boff, activation_code(activation),
           C.OUT_SOFTMAX if classification else C.OUT_LINEAR)
    ratios = np.zeros(2)

    cfg = R.Config(activation=activation, classification=classification,
                   loss=KD.LOSS_NAMES[loss], l1=l1, l2=l2, huber_delta=hp[C.HP_HUBER_DELTA],
                   quantile_alpha=hp[C.HP_QUANTILE_ALPHA], tweedie_power=hp[C.HP_TWEEDIE_POWER])
    X = KD.dense_inputs(nums, cats, int(hp[C.HP_NUM_START]), lay.units[0])

    def objective(b):
        return R.mean_objective(KD.to_net(lay, b), cfg, X, y)

    after = buf.copy()
    train(after, (Net(*net, ratios), Objective(loss, C.OPT_PLAIN, hp), Rows(nums, cats, y)))
    g_kernel = (buf - after) / hp[C.HP_RATE]
    g_fd = np.zeros(lay.n_params)
    h = 1e-6
    for i in range(lay.n_params):
        up, down = buf.copy(), buf.copy()
        up[i] += h
        down[i] -= h
        g_fd[i] = (objective(up) - objective(down)) / (2 * h)
    return g_kernel, g_fd


def _online_gradients(activation, classification, loss, fast_mode=False, l1=1e-3, l2=1e-2):
    """One training row through the online kernel."""
    nums, cats = np.array([[0.3, -1.2, 0.7]]), np.array([[1]], dtype=np.int32)
    y = np.array([2.0 if classification else 0.8])

    def train(buf, args):
        net, objective, rows = args
        online.train_chunk(net, objective, buf, np.zeros(1), rows, np.array([0]), 0, 1, 7, 1)
    return _kernel_and_fd_gradients(activation, classification, loss, train, nums, cats, y,
                                    fast_mode, l1, l2)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fast_mode_changes_nothing_without_regularization(activation):
    """fast_mode skips only updates whose gradient is exactly zero when l1 = l2 = 0."""
    g_fast, _ = _online_gradients(activation, True, C.LOSS_CROSSENTROPY, True, 0.0, 0.0)
    g_full, g_fd = _online_gradients(activation, True, C.LOSS_CROSSENTROPY, False, 0.0,
                                            0.0)
    np.testing.assert_allclose(g_fast, g_full, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g_fast, g_fd, rtol=1e-5, atol=1e-6 * np.abs(g_fd).max())


def _one_step_against_formula(opt, hp, step, slots=2, center_shift=None, bias_step=None):
    """One online step of ``opt`` on a 1-hidden-unit Tanh net equals ``step(w, grad, layer)``,
    the update rule computed by hand, for each of the four parameters (the biases:
    ``bias_step(b, grad, fed, layer)`` when given, ``fed`` the squared gradient of the unit's
    one weight); returns the optimizer state (``slots`` blocks).  ``center_shift``: elastic
    averaging on, with the consensus at the parameters minus ``center_shift``; ``grad`` then
    holds the elastic pull."""
    lay = Layout(units=(1, 1, 1), activation="Tanh", classification=False, slots=slots)
    buf = init_buffer(lay, "Uniform", 0.5, 11, dtype=np.float64)
    woff, boff = lay.offsets()
    w1, b1, w2, b2 = buf[woff[0]], buf[boff[0]], buf[woff[1]], buf[boff[1]]
    x, y = 0.7, 0.2
    h = np.tanh(w1 * x + b1)
    f = w2 * h + b2
    g_out = 2 * (f - y)
    g_hidden = g_out * w2 * (1 - h * h)
    center, pull = np.zeros(1), 0.0
    if center_shift is not None:
        center = buf.copy()
        center[:lay.n_params] -= center_shift
        pull = hp[C.HP_EA_LAMBDA] * center_shift
    if bias_step is None:
        def bias_step(b, grad, fed, layer):
            return step(b, grad, layer)
    gw2, gw1 = g_out * h + pull, g_hidden * x + pull
    expected = {woff[1]: step(w2, gw2, 1), boff[1]: bias_step(b2, g_out + pull, gw2 ** 2, 1),
                woff[0]: step(w1, gw1, 0), boff[0]: bias_step(b1, g_hidden + pull, gw1 ** 2, 0)}
    net = Net(np.array(lay.units, dtype=np.int64), lay.mult, woff, boff,
              activation_code("Tanh"), C.OUT_LINEAR, np.zeros(1))
    rows = Rows(np.array([[x]]), np.zeros((1, 0), dtype=np.int32), np.array([y]))
    online.train_chunk(net, Objective(C.LOSS_QUADRATIC, opt, hp), buf, center, rows,
                       np.array([0]), 0, 1, 1, 1)
    for idx, want in expected.items():
        assert buf[idx] == pytest.approx(want, rel=1e-12)
    return buf[lay.n_params:]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_approx_sqrt_is_h2os_bit_trick(dtype):
    """The kernels' approx_sqrt is bit for bit H2O's, and within 4 % of the square root."""
    from numba import njit
    from mpidl.kernels.approx import approx_sqrt

    @njit
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = approx_sqrt(x[i])
        return out

    x = np.logspace(-30, 30, 2001).astype(dtype)
    got = apply(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.astype(np.float64), R.approx_sqrt(x, dtype))
    ratio = got.astype(np.float64) / np.sqrt(x.astype(np.float64))
    assert ratio.min() > 0.96 and ratio.max() < 1.045
    assert abs(ratio.max() - 1) > 1e-3   # an approximation, not np.sqrt


def _adadelta_bias_step(b, grad, fed, layer):
    """H2O's bias rule (spec 4.1): the state is fed the unit's mean squared weight gradient."""
    return b - R.approx_sqrt(1e-8 / (0.01 * fed + 1e-8), np.float64) * grad


def test_adadelta_matches_reference_formula():
    """One ADADELTA step (spec 4.1) equals the formula computed by hand, with H2O's
    approxSqrt of the rate ratio."""
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RHO], hp[C.HP_EPS], hp[C.HP_MAX_W2], hp[C.HP_FAST_MODE] = 0.99, 1e-8, 3.4e38, 1.0

    def step(w, grad, layer):
        eg = 0.01 * grad * grad
        return w - R.approx_sqrt(1e-8 / (eg + 1e-8), np.float64) * grad

    state = _one_step_against_formula(C.OPT_ADADELTA, hp, step, bias_step=_adadelta_bias_step)
    assert np.all(state > 0)  # both ADADELTA accumulators were fed


def test_elastic_averaging_pull_enters_the_gradient():
    """With elastic averaging the gradient of every parameter gains lambda (w - center)
    (spec 3.3 step 5), here under ADADELTA."""
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RHO], hp[C.HP_EPS], hp[C.HP_MAX_W2], hp[C.HP_FAST_MODE] = 0.99, 1e-8, 3.4e38, 1.0
    hp[C.HP_EA_LAMBDA] = 0.3

    def step(w, grad, layer):
        eg = 0.01 * grad * grad
        return w - R.approx_sqrt(1e-8 / (eg + 1e-8), np.float64) * grad

    _one_step_against_formula(C.OPT_ADADELTA, hp, step, center_shift=0.25,
                              bias_step=_adadelta_bias_step)


def test_manual_rate_matches_reference_formula():
    """Manual rate without momentum (spec 4.2): w -= rate * rate_decay^l / (1 + annealing N)
    * grad, layer l counted from 0 at the input."""
    rate, decay, anneal, n = 0.1, 0.5, 1e-3, 200.0
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RATE], hp[C.HP_DECAY], hp[C.HP_ANNEAL], hp[C.HP_PROCESSED] = rate, decay, anneal, n
    hp[C.HP_MAX_W2], hp[C.HP_FAST_MODE] = 3.4e38, 1.0

    def step(w, grad, layer):
        return w - rate * decay ** layer / (1 + anneal * n) * grad

    _one_step_against_formula(C.OPT_PLAIN, hp, step, slots=0)


@pytest.mark.parametrize("nesterov", [True, False])
def test_momentum_matches_reference_formula(nesterov):
    """Momentum m (spec 4.2), first step from zero velocity: both forms move w by
    -rate (1 - m) grad; the state they keep differs: Nesterov's velocity is -grad, H2O's
    one-step form keeps the step itself."""
    rate, mom = 0.1, 0.5
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RATE], hp[C.HP_DECAY], hp[C.HP_MOM_START] = rate, 1.0, mom
    hp[C.HP_NESTEROV], hp[C.HP_MAX_W2], hp[C.HP_FAST_MODE] = float(nesterov), 3.4e38, 1.0
    steps = []

    def step(w, grad, layer):
        steps.append(-rate * (1 - mom) * grad)
        return w + steps[-1]

    state = _one_step_against_formula(C.OPT_MOMENTUM, hp, step, slots=1)
    # state order: W1, b1, W2, b2 (the buffer's); expected in the order step() was called
    order = [2, 3, 0, 1]   # steps: W2, b2, W1, b1
    want = np.array([steps[i] for i in order])
    if nesterov:
        want = want / (rate * (1 - mom))
    np.testing.assert_allclose(state, want, rtol=1e-12)


def test_adam_matches_reference_formula():
    """One Adam step (adaptive_rate_method = Adam) at t = 1 as torch.optim.Adam takes it
    (Kingma & Ba, Algorithm 1): m = (1-b1) g, v = (1-b2) g^2, m_hat = m / (1-b1),
    v_hat = v / (1-b2), w -= rate m_hat / (sqrt(v_hat) + eps); epsilon is added to the
    corrected sqrt(v), which a large epsilon shows."""
    rate, b1, b2, eps = 0.01, 0.8, 0.99, 1e-3
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RATE], hp[C.HP_DECAY], hp[C.HP_BETA1], hp[C.HP_BETA2] = rate, 1.0, b1, b2
    hp[C.HP_EPS], hp[C.HP_MAX_W2], hp[C.HP_FAST_MODE] = eps, 3.4e38, 1.0

    def step(w, grad, layer):
        m, v = (1 - b1) * grad, (1 - b2) * grad * grad
        return w - rate * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps)

    state = _one_step_against_formula(C.OPT_ADAM, hp, step)
    assert np.all(state != 0)  # both moments were fed


def test_dropout_masks_drop_units_and_scoring_scales():
    """RectifierWithDropout at ratio 0.5: about half the hidden units are dropped in training;
    scoring scales hidden activations by 1 - ratio (H2O's test-time rule)."""
    from mpidl.kernels.forward import forward, layer_offsets
    lay = Layout(units=(3, 400, 2), activation="RectifierWithDropout", classification=True,
                 slots=0)
    buf = init_buffer(lay, "UniformAdaptive", 1.0, 5)
    units, mult = np.array(lay.units, dtype=np.int64), lay.mult
    woff, boff = lay.offsets()
    aoff, zoff = layer_offsets(units, mult)
    a = np.zeros(aoff[-1], dtype=np.float32)
    a[:3] = [1.0, -0.5, 0.25]
    z = np.zeros(zoff[lay.n_layers], dtype=np.float32)
    keep = np.ones(aoff[-1], dtype=np.uint8)
    nz = np.zeros(aoff[-1], dtype=np.int64)
    nz[:3] = [0, 1, 2]
    nnz = np.array([3, 0])
    state = np.array([12345], dtype=np.uint64)
    forward(buf, units, mult, woff, boff, activation_code(lay.activation), C.OUT_SOFTMAX,
            np.array([0.5]), a, z, keep, nz, nnz, aoff, zoff, True, True, state, False)
    kept = keep[3:403].copy()
    assert 150 < kept.sum() < 250
    assert np.all(a[3:403][kept == 0] == 0)
    trained = a[3:403].copy()
    forward(buf, units, mult, woff, boff, activation_code(lay.activation), C.OUT_SOFTMAX,
            np.array([0.5]), a, z, keep, nz, nnz, aoff, zoff, True, False, state, False)
    full = np.maximum(z[:400], 0)
    np.testing.assert_allclose(a[3:403], 0.5 * full, rtol=1e-6)
    np.testing.assert_allclose(trained[kept == 1], full[kept == 1], rtol=1e-6)


# ------------------------------------------------------------------------- mini-batch kernel

def _batch_and_fd_gradients(activation, classification, loss):
    """One mini-batch of 6 rows with a manual rate: the update is -r times the gradient of the
    batch-mean objective plus the l1 / l2 terms (applied once per batch)."""
    rng = np.random.default_rng(5)
    nums = rng.normal(size=(6, 3))
    cats = np.array([[0], [1], [-1], [1], [0], [1]], dtype=np.int32)
    y = np.array([2.0, 0.0, 1.0, 2.0, 1.0, 0.0]) if classification else rng.uniform(0.2, 2, 6)

    def train(buf, args):
        net, objective, rows = args
        assert minibatch.train_minibatch(net, objective, buf, np.zeros(1), rows, np.arange(6), 6,
                                         1, np.array([7])) == 6
    return _kernel_and_fd_gradients(activation, classification, loss, train, nums, cats, y)


KERNELS = {"online": _online_gradients, "minibatch": _batch_and_fd_gradients}


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("classification,loss", [(True, x) for x in CLASS_LOSSES]
                         + [(False, x) for x in REG_LOSSES])
def test_gradient(kernel, activation, classification, loss):
    g_kernel, g_fd = KERNELS[kernel](activation, classification, loss)
    np.testing.assert_allclose(g_kernel, g_fd, rtol=1e-5, atol=1e-6 * np.abs(g_fd).max())


def _adadelta_net(units, activation, init, scale, max_w2):
    """A float32 classification net with ADADELTA (H2O defaults) and the given max_w2:
    (layout, buf, units, mult, woff, boff, hp)."""
    lay = Layout(units=units, activation=activation, classification=True, slots=2)
    buf = init_buffer(lay, init, scale, 3)
    woff, boff = lay.offsets()
    hp = np.zeros(C.HP_SIZE)
    hp[C.HP_RHO], hp[C.HP_EPS], hp[C.HP_MAX_W2] = 0.99, 1e-8, max_w2
    return lay, buf, np.array(lay.units, dtype=np.int64), lay.mult, woff, boff, hp


def test_minibatch_hogwild_threads_learn_a_separable_problem():
    """Two threads, batches of 16, ADADELTA, float32: training error falls to ~0."""
    lay, buf, units, mult, woff, boff, hp = _adadelta_net((4, 16, 2), "Tanh", "UniformAdaptive",
                                                          1.0, 3.4028235e38)
    rng = np.random.default_rng(0)
    nums = rng.normal(size=(2000, 4)).astype(np.float32)
    y = (nums[:, 0] + nums[:, 1] > 0).astype(np.float32)
    cats = np.zeros((2000, 0), dtype=np.int32)
    net = Net(units, mult, woff, boff, C.ACT_TANH, C.OUT_SOFTMAX, np.zeros(1))
    objective = Objective(C.LOSS_CROSSENTROPY, C.OPT_ADADELTA, hp)
    for it in range(5):
        minibatch.train_minibatch(net, objective, buf, np.zeros(1, np.float32),
                                  Rows(nums, cats, y), rng.permutation(2000), 16, 2,
                                  np.array([it, it + 100]))
    out = scoring.predict_rows(net, buf, 0.0, 0, nums, cats, 1)
    assert np.mean(out.argmax(1) != y) < 0.03


def test_minibatch_max_w2_bounds_every_unit():
    """After a mini-batch step with max_w2, each unit's incoming squared norm is <= max_w2."""
    lay, buf, units, mult, woff, boff, hp = _adadelta_net((6, 9, 3), "Rectifier", "Normal", 3.0,
                                                          2.0)
    rng = np.random.default_rng(1)
    nums = rng.normal(size=(64, 6)).astype(np.float32)
    weights, _ = minibatch.layer_views(buf, lay.units, mult, woff, boff)
    assert max((w.astype(np.float64) ** 2).sum(0).max() for w in weights) > 2.0
    rows = Rows(nums, np.zeros((64, 0), np.int32), rng.integers(0, 3, 64).astype(np.float32))
    minibatch.train_minibatch(Net(units, mult, woff, boff, C.ACT_RELU, C.OUT_SOFTMAX, np.zeros(1)),
                              Objective(C.LOSS_CROSSENTROPY, C.OPT_ADADELTA, hp), buf,
                              np.zeros(1, np.float32), rows, np.arange(64), 32, 1, np.array([3]))
    for w in weights:
        assert (w.astype(np.float64) ** 2).sum(0).max() <= 2.0 * (1 + 1e-5)
