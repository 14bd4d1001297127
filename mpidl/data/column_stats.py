"""Global per-column statistics of the training frame in a constant number of collectives.

Every rank sums its own rows of all the columns into stacked arrays: one ``allreduce_sum`` of
(non-missing count, weight sum, weighted sum, count of non-zero weights) per column, one
``allreduce_max`` of (max, -min) per column, then one ``allreduce_sum`` of the weighted squared deviations from the global
means (two passes, as a single pass of sums of squares loses the variance to rounding).  So
startup costs three small collectives whatever the column count (MNIST's 785 columns took
about 3,000 before).  Means and standard deviations are made from the reduced sums by
``means_from_sums`` / ``sds_from_sums`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ColumnStats:
    """Per-column global statistics, float64[n_cols] each (rows with a missing value skipped):
    ``count`` non-missing rows, ``wsum`` their weight, ``mean`` / ``sd`` weighted mean and
    H2O's sample standard deviation (0 without weight; numeric columns only), ``lo`` / ``hi``
    min / max of the values or categorical codes (+inf / -inf when none)."""

    count: np.ndarray
    wsum: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def means_from_sums(wsum: np.ndarray, wx: np.ndarray) -> np.ndarray:
    """Weighted means from reduced sums (0 where a column has no weight)."""
    return np.where(wsum > 0, wx / np.where(wsum > 0, wsum, 1.0), 0.0)


def sds_from_sums(wsum: np.ndarray, wdev2: np.ndarray, n: np.ndarray) -> np.ndarray:
    """H2O's sample standard deviations (``RollupStats``: n - 1; with weights ``BasicStats``:
    ``sqrt(n / (n - 1) * sum w (x - mean)^2 / sum w)``) from reduced weighted squared
    deviations; ``n``: the values with a non-zero weight (0 where n < 2 or no weight)."""
    ok = (wsum > 0) & (n > 1)
    safe_w, safe_n = np.where(ok, wsum, 1.0), np.where(ok, n, 2.0)
    return np.where(ok, np.sqrt(wdev2 / safe_w * safe_n / (safe_n - 1)), 0.0)


def _present(raw, categorical: bool) -> tuple[np.ndarray, np.ndarray]:
    """(values as float64, mask of the non-missing ones) of one raw column."""
    x = np.asarray(raw)
    if categorical:
        return x.astype(np.float64), x >= 0
    x = np.asarray(x, dtype=np.float64)
    return x, ~np.isnan(x)


def global_column_stats(columns: list, categorical: list[bool], w: np.ndarray,
                        comm) -> ColumnStats:
    """Statistics of each raw column in ``columns`` (this rank's rows; float64 numerics with
    NaN, or int categorical codes with -1 when ``categorical``) with row weights ``w``
    float64[n], over every rank.  A collective: three allreduces."""
    k = len(columns)
    sums = np.zeros((k, 4))
    ends = np.full((k, 2), -np.inf)
    for j, (raw, cat) in enumerate(zip(columns, categorical)):
        x, ok = _present(raw, cat)
        xs, ws = x[ok], w[ok]
        sums[j] = ok.sum(), ws.sum(), (ws * xs).sum() if not cat else 0.0, (ws > 0).sum()
        if xs.size:
            ends[j] = xs.max(), -xs.min()
    comm.allreduce_sum(sums)
    comm.allreduce_max(ends)
    mean = means_from_sums(sums[:, 1], sums[:, 2])
    dev2 = np.zeros(k)
    for j, (raw, cat) in enumerate(zip(columns, categorical)):
        if not cat:
            x, ok = _present(raw, cat)
            dev2[j] = (w[ok] * (x[ok] - mean[j]) ** 2).sum()
    comm.allreduce_sum(dev2)
    return ColumnStats(count=sums[:, 0], wsum=sums[:, 1], mean=mean,
                       sd=sds_from_sums(sums[:, 1], dev2, sums[:, 3]), lo=-ends[:, 1], hi=ends[:, 0])
