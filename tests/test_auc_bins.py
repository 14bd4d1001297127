"""H2O's 400-bin AUC histogram (hex/AUC2.java) checked by hand and against the exact AUC."""

import numpy as np
import pytest

from mpidl.kernels.auc_bins import merge_bins, stream_bins
from mpidl.metrics import binomial_metrics


def exact_auc(y, p):
    """Trapezoids over the exact ROC curve (every distinct probability a threshold)."""
    ths, inv = np.unique(p, return_inverse=True)
    tp = np.bincount(inv, weights=(y == 1) * 1.0, minlength=ths.size)[::-1].cumsum()
    fp = np.bincount(inv, weights=(y == 0) * 1.0, minlength=ths.size)[::-1].cumsum()
    tp0, fp0 = np.r_[0.0, tp[:-1]], np.r_[0.0, fp[:-1]]
    return float(np.sum((fp - fp0) * (tp + tp0) / 2) / tp[-1] / fp[-1])


def binned_auc(tps, fps):
    """H2O's compute_auc over ascending bins: trapezoids from the highest threshold."""
    tp, fp = np.cumsum(tps[::-1]), np.cumsum(fps[::-1])
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
    assert binned_auc(b[2], b[3]) == pytest.approx(2 / 3)
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


def test_rows_stream_into_bins_as_h2o_perrow_by_hand():
    # 3 bins: .1(-), .8(+), .5(+) each a bin; .45(-) folds into the .5 bin (cost .05^2/2 is
    # below the cheapest merge, (.5,.8) at .045) -> centre .475; .95(+) lands past the end, is
    # a bin of its own, and the cheapest pair (.8,.95) merges -> centre .875
    p = np.array([0.1, 0.8, 0.5, 0.45, 0.95])
    y = np.array([0, 1, 1, 0, 1])
    ths, sqe, tps, fps = stream_bins(p, y, np.ones(5), 3)
    np.testing.assert_allclose(ths, [0.1, 0.475, 0.875])
    np.testing.assert_allclose(sqe, [0.0, 0.00125, 0.01125], rtol=1e-5)   # float32 deltas
    assert tps.tolist() == [0.0, 1.0, 2.0] and fps.tolist() == [1.0, 1.0, 0.0]
    # binned AUC: thresholds .875, .475, .1 -> (2,0), (3,1), (3,2): 5.5 / 6; exact AUC is 1
    assert binned_auc(tps, fps) == pytest.approx(11 / 12)
    assert exact_auc(y, p) == 1.0


def test_a_histogram_keeps_totals_and_the_weighted_mean():
    rng = np.random.default_rng(5)
    p = rng.random(20_000)
    y = rng.integers(0, 2, p.size)
    w = rng.random(p.size)
    ths, _, tps, fps = stream_bins(p, y, w, 400)
    assert ths.shape == (400,) and np.all(np.diff(ths) > 0)
    assert tps.sum() == pytest.approx(w[y == 1].sum()) and fps.sum() == pytest.approx(
        w[y == 0].sum())
    # each centre is the weighted mean of its rows: the weighted mean of all is preserved
    assert np.dot(ths, tps + fps) == pytest.approx(np.dot(p, w))
