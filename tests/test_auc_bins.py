"""H2O's 400-bin AUC histogram (hex/AUC2.java) checked by hand and against the exact AUC."""

import numpy as np
import pytest

from mpidl.kernels.auc_bins import merge_bins, reduce_sorted_bins
from mpidl.metrics import binomial_metrics


def exact_auc(y, p):
    """Trapezoids over the exact ROC curve (every distinct probability a threshold)."""
    ths, inv = np.unique(p, return_inverse=True)
    tp = np.bincount(inv, weights=(y == 1) * 1.0, minlength=ths.size)[::-1].cumsum()
    fp = np.bincount(inv, weights=(y == 0) * 1.0, minlength=ths.size)[::-1].cumsum()
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    return float(np.sum((fp - fp0) * (tp + tp0) / 2) / tp[-1] / fp[-1])


def test_merge_follows_h2o_least_squared_error_rule_by_hand():
    # unit weights; merge costs d^2/2: (.1,.2) .005, (.2,.6) .08, (.6,.65) .00125, (.65,.9) .03125
    ths = np.array([0.1, 0.2, 0.6, 0.65, 0.9])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    out = merge_bins(ths, np.zeros(5), y.copy(), 1.0 - y, 3)
    # 1st merge (.6,.65) -> centre .625, sqe .00125; its neighbours now cost .1217 and .0517,
    # so the 2nd merge is (.1,.2) -> centre .15, sqe .005; 3 bins remain
    np.testing.assert_allclose(out[0], [0.15, 0.625, 0.9])
    np.testing.assert_allclose(out[1], [0.005, 0.00125, 0.0], rtol=1e-5)  # float32 deltas
    assert out[2].tolist() == [1.0, 1.0, 1.0] and out[3].tolist() == [1.0, 1.0, 0.0]


def test_equal_costs_merge_the_leftmost_pair_and_float32_dups_first():
    out = merge_bins(np.arange(4.0), np.zeros(4), np.ones(4), np.zeros(4), 3)
    assert out[0].tolist() == [0.5, 2.0, 3.0]
    # 0.3 and 0.3 + 1e-12 are one float32: merged although 3 bins are allowed
    ths = np.array([0.1, 0.3, 0.3 + 1e-12, 0.5])
    out = merge_bins(ths, np.zeros(4), np.ones(4), np.zeros(4), 3)
    assert out[0].shape == (3,) and out[2].tolist() == [1.0, 2.0, 1.0]


def test_binned_auc_by_hand_differs_from_exact_as_h2o():
    # the 3 bins above: thresholds .9, .625, .15 with tp 1,1,1 and fp 0,1,1 -> AUC 4/6,
    # where the exact AUC of the 5 rows is 5/6 (H2O reports the binned value)
    ths = np.array([0.1, 0.2, 0.6, 0.65, 0.9])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    b = merge_bins(ths, np.zeros(5), y.copy(), 1.0 - y, 3)
    tp, fp = np.cumsum(b[2][::-1]), np.cumsum(b[3][::-1])
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    assert np.sum((fp - fp0) * (tp + tp0) / 2) / 3 / 2 == pytest.approx(2 / 3)
    assert exact_auc(y, ths) == pytest.approx(5 / 6)


def test_up_to_400_distinct_probabilities_the_auc_is_exact():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 5000)
    p = np.round(np.clip(0.2 * y + 0.8 * rng.random(5000), 0, 1), 2)   # 101 distinct
    assert binomial_metrics(y, p)["AUC"] == pytest.approx(exact_auc(y, p), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_binned_auc_is_close_to_the_exact_auc_on_many_distinct_values(seed):
    rng = np.random.default_rng(seed)
    n = 200_000
    y = rng.integers(0, 2, n)
    p = 1.0 / (1.0 + np.exp(-(rng.standard_normal(n) + y)))
    m = binomial_metrics(y, p)
    assert abs(m["AUC"] - exact_auc(y, p)) < 1e-4
    assert m["confusion_matrix"][0][0] + m["confusion_matrix"][0][1] == (y == 0).sum()


def test_reduce_tree_keeps_totals_and_sorted_centres():
    rng = np.random.default_rng(5)
    ths = np.sort(rng.random(20_000))
    w = rng.random(20_000)
    out = reduce_sorted_bins(ths.copy(), np.zeros(ths.size), w.copy(), np.zeros(ths.size), 400)
    assert out[0].shape == (400,) and np.all(np.diff(out[0]) > 0)
    assert out[2].sum() == pytest.approx(w.sum())
    # each centre is the weighted mean of its rows: the weighted mean of all is preserved
    assert np.dot(out[0], out[2]) == pytest.approx(np.dot(ths, w))
