"""Column statistics taken a block of columns at a time (data/column_stats.py) against plain
numpy, column by column: counts, weight sums, weighted means, H2O's sample sds, min and max,
with missing values, zero weights, categorical codes and values near 1e308."""

import math

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data import column_stats
from mpidl.data.column_stats import global_column_stats

N = 400
HUGE = 2.0 ** 1000     # values near 1e301..1e308: plain sums overflow, scaled ones do not


def _columns():
    """(columns, categorical flags, names): numerics with and without NaN, a constant, an
    all-missing one, one of +-1e308-sized values, and categorical codes with -1."""
    rng = np.random.default_rng(7)
    with_nan = rng.normal(5, 3, N)
    with_nan[rng.random(N) < 0.2] = np.nan
    huge = rng.uniform(-1.5, 1.5, N) * 1e308
    huge[::13] = np.nan
    cols = [rng.normal(-2, 0.5, N), with_nan, np.full(N, 4.25), np.full(N, np.nan), huge,
            rng.integers(-1, 4, N).astype(np.int32), 1e9 + rng.normal(0, 1, N),
            rng.integers(0, 256, N).astype(np.float64)]
    categorical = [False] * 5 + [True] + [False] * 2
    return cols, categorical, [f"x{j}" for j in range(len(cols))]


def _reference(x, w, categorical):
    """(count, wsum, mean, sd, lo, hi) of one column by plain numpy on its present values
    (sums of huge columns taken over x / HUGE, then scaled back)."""
    x = np.asarray(x, dtype=np.float64)
    ok = x >= 0 if categorical else ~np.isnan(x)
    xs, ws = x[ok], w[ok]
    if xs.size == 0:
        return 0, 0.0, 0.0, 0.0, np.inf, -np.inf
    scale = HUGE if np.abs(xs).max() > 1e300 else 1.0
    mean = np.average(xs / scale, weights=ws) * scale
    n = np.count_nonzero(ws)
    var = np.average((xs / scale - mean / scale) ** 2, weights=ws) * n / (n - 1)
    return xs.size, ws.sum(), mean, math.sqrt(var) * scale, xs.min(), xs.max()


@pytest.mark.parametrize("columns_per_block", [1, 3, 100])
@pytest.mark.parametrize("weighted", [False, True])
def test_block_statistics_match_numpy(monkeypatch, columns_per_block, weighted):
    monkeypatch.setattr(column_stats, "BLOCK_BYTES", 8 * N * columns_per_block)
    cols, categorical, names = _columns()
    rng = np.random.default_rng(3)
    w = rng.uniform(0, 1, N) if weighted else np.ones(N)
    if weighted:
        w[::7] = 0.0          # zero weights: counted as rows, not in H2O's n of the sd
    stats = global_column_stats(cols, categorical, names, w, SerialComm(), "t.csv")
    for j, (x, cat) in enumerate(zip(cols, categorical)):
        count, wsum, mean, sd, lo, hi = _reference(x, w, cat)
        assert stats.count[j] == count and stats.lo[j] == lo and stats.hi[j] == hi, names[j]
        assert stats.wsum[j] == pytest.approx(wsum, rel=1e-13), names[j]
        if not cat:
            assert stats.mean[j] == pytest.approx(mean, rel=1e-12, abs=1e-300), names[j]
            assert stats.sd[j] == pytest.approx(sd, rel=1e-10, abs=1e-300), names[j]


def test_block_statistics_of_no_rows():
    cols, categorical, names = _columns()
    stats = global_column_stats([np.asarray(c)[:0] for c in cols], categorical, names,
                                np.ones(0), SerialComm(), "t.csv")
    assert not stats.count.any() and not stats.mean.any() and not stats.sd.any()
    assert np.all(stats.lo == np.inf) and np.all(stats.hi == -np.inf)


def test_the_columns_are_left_as_they_were():
    cols, categorical, names = _columns()
    before = [np.array(c, copy=True) for c in cols]
    global_column_stats(cols, categorical, names, np.ones(N), SerialComm(), "t.csv")
    for a, b in zip(cols, before):
        np.testing.assert_array_equal(a, b)
