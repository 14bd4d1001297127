"""The reference itself (its gradient against finite differences of its objective), mpidl's
test-time network against the reference's, and mpidl's initializers against H2O's ranges."""

from __future__ import annotations

import numpy as np
import pytest

import kernel_driver as KD
import reference as R
from mpidl.model.network import init_buffer

ACTIVATIONS = ["Tanh", "Rectifier", "Maxout"]
LOSSES = [(True, "CrossEntropy"), (True, "Quadratic"), (False, "Quadratic"),
          (False, "Absolute"), (False, "Huber"), (False, "Quantile"), (False, "poisson"),
          (False, "gamma"), (False, "tweedie")]


def _net(units, cfg, seed=1):
    rng = np.random.default_rng(seed)
    mult = [2 if (cfg.activation == "Maxout" and l < len(units) - 2) else 1
            for l in range(len(units) - 1)]
    W = [rng.normal(0, 0.7, (mult[l] * units[l + 1], units[l])) for l in range(len(units) - 1)]
    b = [rng.normal(0, 0.3, w.shape[0]) for w in W]
    return R.Net(W, b)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("classification,loss", LOSSES)
def test_reference_gradient_is_the_objectives(activation, classification, loss):
    """The reference's backprop (plus l1 sign + l2 theta) equals central differences of its
    mean objective, so its updates are gradient steps of the stated objective."""
    cfg = R.Config(activation=activation, classification=classification, loss=loss, l1=1e-3,
                   l2=1e-2, huber_delta=0.5, quantile_alpha=0.3)
    net = _net((5, 4, 3, 3 if classification else 1), cfg)
    x, y = np.array([0.3, -1.2, 0.0, 1.0, 0.7]), (2.0 if classification else 0.8)
    dW, g, _ = R.data_gradients(net, cfg, x, y)
    analytic = np.concatenate([(d + cfg.l1 * np.sign(p) + cfg.l2 * p).ravel()
                               for d, p in zip(dW + g, net.W + net.b)])
    numeric, h = [], 1e-6
    for p in net.W + net.b:
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + h
            up = R.mean_objective(net, cfg, x[None], np.array([y]))
            p[i] = old - h
            down = R.mean_objective(net, cfg, x[None], np.array([y]))
            p[i] = old
            numeric.append((up - down) / (2 * h))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("classification", [True, False])
def test_scoring_kernels_equal_the_reference_test_time_network(activation, classification,
                                                                blocks):
    """No masks at test time; hidden *WithDropout layers scaled by 1 - ratio (spec 3.5) and,
    as mpidl chose, the input by 1 - input_dropout_ratio."""
    cfg = R.Config(activation=activation, classification=classification,
                   loss="CrossEntropy" if classification else "Quadratic",
                   hidden_dropout=(0.3, 0.5), input_dropout=0.2, optimizer="plain")
    lay = KD.layout((8, 5, 4, 3 if classification else 1), cfg)
    buf = KD.new_buffer(lay, np.float64)
    rng = np.random.default_rng(9)
    nums = rng.normal(size=(9, 3))
    cats = np.stack([rng.integers(-1, 3, 9), rng.integers(3, 5, 9)], axis=1).astype(np.int32)
    got = KD.score(buf, lay, cfg, nums, cats, 5, blocks=blocks)
    net = KD.to_net(lay, buf)
    X = KD.dense_inputs(nums, cats, 5, 8)
    want = np.array([R.forward(net, cfg, x).a[-1] for x in X])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("distribution", ["UniformAdaptive", "Uniform", "Normal"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("classification", [True, False])
def test_initial_weights_fill_h2os_ranges(distribution, activation, classification):
    """Spec section 2: UniformAdaptive +-sqrt(6 / (fan_in + fan_out)) (no Maxout x2; x4 on a
    classifier's output layer), Uniform +-scale, Normal sd = scale; H2O's bias fills."""
    units, scale = (40, 30, 20, 3 if classification else 1), 0.7
    cfg = R.Config(activation=activation, classification=classification)
    lay = KD.layout(units, cfg)
    net = KD.to_net(lay, init_buffer(lay, distribution, scale, 11, dtype=np.float64))
    ranges = R.init_ranges(units, classification, distribution, scale)
    normal = np.concatenate([W.ravel() for W, rng in zip(net.W, ranges) if rng[0] == "normal"]
                            + [np.zeros(0)])
    if normal.size:                      # ~2,000 draws: sd within 5 % (its error is ~1.6 %)
        assert abs(normal.std() - scale) < 0.05 * scale and abs(normal.mean()) < 0.05 * scale
    for W, rng in zip(net.W, ranges):
        if rng[0] == "normal":
            continue
        lo, hi = rng
        assert lo <= W.min() and W.max() <= hi
        if W.size >= 40:                 # the draws fill the range
            assert W.min() < 0.8 * lo and W.max() > 0.8 * hi
    for b, fill in zip(net.b, R.init_biases(units, activation)):
        np.testing.assert_array_equal(b, fill)
