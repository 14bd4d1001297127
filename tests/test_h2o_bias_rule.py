"""H2O's bias ADADELTA rule (issue 17), by hand: one online row through a network without a
hidden layer, the bias and its state after it computed from the spec's formula (4.1) and
H2O-3's ``Neurons.bprop`` / ``update_bias`` / ``computeAdaDeltaRateForBias``.

H2O feeds a bias's ADADELTA state not the bias's own squared gradient but ``avg_grad2``: the
squared gradients of the unit's incoming weights that the row updated (fast_mode skips the
inputs that are 0), summed and divided by all the unit's inputs; the step is that rate times
the bias's own gradient, in doubles with the double approxSqrt.  Until this rule, mpidl fed
the bias's own g^2 (a step ~1.7x smaller on this row); ``benchmarks/h2o_steps.py`` measures
the rule against the real H2O-3 (RESULTS.md ``h2o_steps-*``).
"""

from __future__ import annotations

import numpy as np
import pytest

import kernel_driver as KD
import reference as R

RHO, EPS = 0.99, 1e-8
X = np.array([[0.5, 0.0, -2.0]])            # one row; the middle input is 0 (not updated)


def approx_sqrt64(x: float) -> float:
    """H2O's MathUtils.approxSqrt(double): ((bits >> 32) + 1072632448) << 31."""
    bits = np.array([x], dtype=np.float64).view(np.int64)
    return float((((bits >> 32) + 1072632448) << 31).view(np.float64)[0])


def hand_bias_step(W, b, e0, d0, x, label):
    """(b, E[g^2], E[dx^2]) after one row, H2O's rule, in float64 (spec 3.1, 4.1)."""
    z = W @ x + b
    p = np.exp(z - z.max())
    p /= p.sum()
    g = p - np.eye(len(b))[label]                         # CrossEntropy: dE/dz = p - t
    fed = np.array([sum((g[k] * xj) ** 2 for xj in x if xj != 0) / len(x)
                    for k in range(len(b))])
    eg2 = RHO * e0 + (1 - RHO) * fed
    eta = np.array([approx_sqrt64((d0[k] + EPS) / (eg2[k] + EPS)) for k in range(len(b))])
    return b - eta * g, eg2, RHO * d0 + (1 - RHO) * eta * eta * fed, g


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_bias_state_is_fed_the_mean_squared_weight_gradient(dtype, tol):
    cfg = R.Config(activation="Rectifier", rho=RHO, epsilon=EPS)
    lay = KD.layout((3, 2), cfg)
    buf = KD.new_buffer(lay, dtype, seed=5)
    start = KD.to_net(lay, buf)
    data = (X.astype(np.float64), np.zeros((1, 0), dtype=np.int32), np.array([1.0]),
            np.array([0]), 0)
    assert KD.train_online(buf, lay, cfg, data, 1) == 1
    got = KD.to_net(lay, buf)
    b, eg2, edx, g = hand_bias_step(start.W[0], start.b[0], start.s1[1], start.s2[1], X[0], 1)
    np.testing.assert_allclose(got.s1[1], eg2, rtol=tol)
    np.testing.assert_allclose(got.s2[1], edx, rtol=tol)
    np.testing.assert_allclose(got.b[0], b, rtol=tol)
    # the former rule (the bias's own g^2) moves the bias visibly differently on this row
    own = RHO * start.s1[1] + (1 - RHO) * g * g
    eta_own = np.sqrt((start.s2[1] + EPS) / (own + EPS))
    assert np.abs((start.b[0] - eta_own * g) - b).min() > 100 * tol * np.abs(b).max()
