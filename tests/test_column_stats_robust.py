"""Column mean / sd (data/column_stats.py) against hand formulas, for ordinary and extreme values."""

import math
import warnings

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data.column_stats import global_column_stats, normalized_weights
from mpidl.errors import UserError


def _stats(x, w=None, name="a"):
    """The column's mean and sd as build_datainfo gets them (one rank), with every numpy warning an error."""
    x = np.asarray(x, dtype=np.float64)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=np.float64)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        w = normalized_weights(w, float(w.min()), float(w.max()), "w", "t.csv")
        stats = global_column_stats([x], [False], [name], w, SerialComm(), "t.csv")
        return float(stats.mean[0]), float(stats.sd[0])


def test_ordinary_weighted_column_matches_numpy():
    rng = np.random.default_rng(0)
    x, w = rng.normal(3, 2, 1000), rng.uniform(0.5, 2, 1000)
    x[::9] = np.nan
    ok = ~np.isnan(x)
    ref_mean = np.average(x[ok], weights=w[ok])
    n = ok.sum()   # H2O's sample sd: n / (n - 1) of the weighted variance
    ref_sd = math.sqrt(np.average((x[ok] - ref_mean) ** 2, weights=w[ok]) * n / (n - 1))
    mean, sd = _stats(x, w)
    assert mean == pytest.approx(ref_mean, rel=1e-13)
    assert sd == pytest.approx(ref_sd, rel=1e-12)


def test_large_offset_keeps_the_small_spread():
    x = 1e9 + np.random.default_rng(1).normal(0, 1, 5000)
    mean, sd = _stats(x)
    assert mean == pytest.approx(np.mean(x), rel=1e-15)
    assert sd == pytest.approx(np.std(x, ddof=1), rel=1e-9)


@pytest.mark.parametrize("big,k", [(1e308, 600), (1.79e308, 500)])  # the sample sd, 1.0005 big, still finite
def test_plus_minus_huge_column(big, k):
    # k values +big and n-k values -big: mean = big (2k - n) / n, sd = big sqrt(1 - (2k/n-1)^2)
    n = 1000
    x = np.where(np.arange(n) < k, big, -big)
    mean, sd = _stats(x)
    p = (2 * k - n) / n
    assert mean == pytest.approx(big * p, rel=1e-12)
    assert sd == pytest.approx(big * math.sqrt((1 - p * p) * n / (n - 1)), rel=1e-12)


def test_huge_weights_do_not_overflow():
    x = np.array([1.0, 2.0, 4.0])
    w = np.array([1e150, 1e150, 2e150])
    mean, sd = _stats(x, w)
    assert mean == pytest.approx((1 + 2 + 8) / 4)
    assert sd == pytest.approx(math.sqrt((1 * 1.75**2 + 1 * 0.75**2 + 2 * 1.25**2) / 4 * 3 / 2))


def test_constant_empty_and_zero_weight_columns():
    assert _stats([5.0, 5.0, np.nan]) == (5.0, 0.0)
    assert _stats([np.nan, np.nan]) == (0.0, 0.0)
    assert _stats([1.0, 3.0], w=[0.0, 0.0]) == (0.0, 0.0)


@pytest.mark.parametrize("x,match", [
    ([0.0, 1e-310, 0.0, 1e-310], "standard deviation .* too small"),
    ([1.0, np.inf, 2.0], "infinite values"),
    ([-np.inf, 1.0], "infinite values"),
    ([1.7976931348623157e308] * 3 + [-1.7976931348623157e308] * 2, "too wide to center"),
])
def test_unusable_columns_are_named(x, match):
    with pytest.raises(UserError, match=rf"t\.csv: column 'a' .*{match}"):
        _stats(x)


@pytest.mark.parametrize("w,match", [([1.0, 1e308], "weights up to 1e\\+308"),
                                     ([1.0, np.inf], "weights up to inf"),
                                     ([1.0, -1.0], "negative")])
def test_unusable_weights_are_named(w, match):
    with pytest.raises(UserError, match=rf"t\.csv: weights column 'w' has {match}"):
        _stats([1.0, 2.0], w)
