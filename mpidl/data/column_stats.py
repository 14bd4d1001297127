"""Global per-column statistics of the training frame: few collectives, any float64 value.

Few collectives: every rank takes its own rows of all the columns into stacked arrays, one
``allreduce_max`` of (max, -min) per column, then one ``allreduce_sum`` of ``SUMS`` numbers
per column, so startup costs two small collectives whatever the column count (MNIST's 785
columns took about 3,000 once).

Any value: plain sums overflow long before the values do (a column of +-1e308 gave ``sum =
inf``, a NaN mean, numpy overflow warnings and a model that never learned).  The sums are
taken over values shifted to the middle of the column's range and divided by a power of two
near half that range, so every term lies in [-2, 2] (and every weight, divided by the
largest, in [0, 1]): no sum can overflow, and dividing by a power of two loses no digits.
The shift keeps the one-pass variance well conditioned (the mean lies inside the range).
``mean_sd`` turns the totals into the mean and H2O's sample sd, or refuses the column with one
line naming it when they cannot be used (not finite, a sd whose inverse overflows, values whose
distance to the mean overflows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UserError

SUMS = 5               # count, sum w, sum w d, sum w d^2, count of non-zero weights
FLOAT32_MAX = float(np.finfo(np.float32).max)
# weighted sums stay finite: the sampling total over all rows, weighted squared errors
MAX_WEIGHT = math.sqrt(np.finfo(np.float64).max)
# float64 values of one block of columns: one column of MNIST's 60,000 rows, which stays in
# the cache through the block's passes (blocks of 2-8 such columns were slower), or many
# columns of a small shard in one pass each
BLOCK_BYTES = 1 << 19


def shift_and_scale(lo: float, hi: float) -> tuple[float, float]:
    """(center, scale) for values in [lo, hi] (finite): the midpoint, and a power of two with
    ``|x - center| / scale <= 2``; (0, 1) for an empty or constant range."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return (lo if math.isfinite(lo) else 0.0), 1.0
    half_range = hi / 2 - lo / 2
    return lo / 2 + hi / 2, math.ldexp(1.0, math.frexp(half_range)[1] - 1)


def block_sums(block: np.ndarray, w: np.ndarray, center: np.ndarray, scale: np.ndarray,
               scratch: np.ndarray | None = None) -> np.ndarray:
    """float64[k, SUMS] of this rank's rows of a block of k columns (``block`` float64[k, n],
    C order, NaN = missing; overwritten): per column the non-NaN count, then sums of w, w d
    and w d^2 over them, d = (x - center) / scale, and the count of those with a non-zero
    weight (``w`` float64[n] in [0, 1]: the weights divided by the largest, see
    ``normalized_weights``; ``center``, ``scale`` float64[k] from ``shift_and_scale``).  Each
    sum runs along a contiguous row: numpy's pairwise summation, as for one column.
    ``scratch``: float64[k, n] to work in (allocated when None)."""
    missing = np.isnan(block)
    sums = np.empty((block.shape[0], SUMS))
    with np.errstate(all="ignore"):  # infinite values: refused by mean_sd, no warning here
        block -= center[:, None]
        block /= scale[:, None]
        if missing.any():
            np.copyto(block, 0.0, where=missing)
            wn = np.where(missing, 0.0, w)
            sums[:, 0] = block.shape[1] - missing.sum(axis=1)
            sums[:, 4] = np.count_nonzero(wn, axis=1)
        else:                        # every row counts: w itself, broadcast over the block
            wn = w
            sums[:, 0] = block.shape[1]
            sums[:, 4] = np.count_nonzero(w)
        sums[:, 1] = wn.sum(axis=-1)
        wd = np.multiply(block, wn, out=scratch)
        sums[:, 2] = wd.sum(axis=1)
        wd *= block
        sums[:, 3] = wd.sum(axis=1)
    return sums


def mean_sd(totals: np.ndarray, lo: float, hi: float, name: str, source: str
            ) -> tuple[float, float]:
    """(weighted mean, sd) from the global ``local_sums`` totals and range.  The sd is H2O's
    sample one (``RollupStats``: n - 1; with weights ``BasicStats``: n / (n - 1) of the
    weighted variance, n the values with a non-zero weight; 0 when n < 2).

    UserError naming column ``name`` of ``source`` when the values are not finite or the
    statistics cannot standardize them; (0, 0) when no row has a weight."""
    if totals[0] > 0 and not (math.isfinite(lo) and math.isfinite(hi)):
        raise UserError(f"{source}: column '{name}' has infinite values")
    lo, hi = float(lo), float(hi)   # Python floats: inf on overflow, never a numpy warning
    center, scale = shift_and_scale(lo, hi)
    _, sum_w, sum_wd, sum_wdd, n = (float(t) for t in totals)
    if not sum_w > 0:
        return 0.0, 0.0
    m = sum_wd / sum_w
    var = max(0.0, sum_wdd / sum_w - m * m) * (n / (n - 1) if n > 1 else 0.0)
    mean = min(max(center + scale * m, lo), hi)
    sd = scale * math.sqrt(var)
    if sd > 0 and not math.isfinite(1.0 / sd):
        raise UserError(f"{source}: column '{name}' has a standard deviation ({sd:.3g}) too "
                        "small to standardize by; rescale it or add it to ignored_columns")
    if not (math.isfinite(hi - mean) and math.isfinite(mean - lo) and math.isfinite(sd)):
        raise UserError(f"{source}: column '{name}' spans {lo:.3g} to {hi:.3g}, too wide to "
                        "center in float64; rescale it or add it to ignored_columns")
    return float(mean), float(sd)


def check_unstandardized(lo: float, hi: float, name: str, source: str) -> None:
    """With standardize = false the network reads values as float32: refuse a column beyond."""
    if max(abs(lo), abs(hi)) > FLOAT32_MAX:
        raise UserError(f"{source}: column '{name}' has values up to {max(abs(lo), abs(hi)):.3g}, "
                        "beyond float32 inputs; set standardize = true or rescale it")


def normalized_weights(w: np.ndarray, w_min: float, w_max: float, name: str,
                       source: str) -> np.ndarray:
    """``w / w_max`` (float64[n] in [0, 1]) for ``local_sums``, after checking the global
    range: weights must be >= 0 and at most MAX_WEIGHT (so the sampling total over all rows
    and weighted squared errors stay finite); UserError naming the weights column if not."""
    if w_min < 0:
        raise UserError(f"{source}: weights column '{name}' has negative values")
    if not w_max <= MAX_WEIGHT:
        raise UserError(f"{source}: weights column '{name}' has weights up to {w_max:.3g}; "
                        f"the largest usable weight is {MAX_WEIGHT:.3g}")
    return w / w_max if w_max > 0 else w


def standardized(x: np.ndarray, sub: float, mul: float, name: str, source: str) -> np.ndarray:
    """``(x - sub) * mul`` (float64[n], NaN where ``x`` is) for the network's float32 inputs;
    UserError naming column ``name`` of ``source`` when a value does not fit float32 (a
    scoring frame far outside the training range), instead of an overflow warning and NaN."""
    with np.errstate(over="ignore", invalid="ignore"):
        z = (x - sub) * mul
        too_big = np.abs(z) > FLOAT32_MAX
    if too_big.any():
        raise UserError(f"{source}: column '{name}' has values up to "
                        f"{np.max(np.abs(x[too_big])):.3g}, beyond the model's float32 inputs "
                        f"(mean {sub:.3g}, scale {mul:.3g})")
    return z


@dataclass
class ColumnStats:
    """Per-column global statistics, float64[n_cols] each (rows with a missing value skipped):
    ``count`` non-missing rows, ``wsum`` their weight (weights divided by the largest),
    ``mean`` / ``sd`` weighted mean and H2O's sample standard deviation (0 without weight;
    numeric columns only), ``lo`` / ``hi`` min / max of the values or categorical codes
    (+inf / -inf when none)."""

    count: np.ndarray
    wsum: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


def _column_blocks(columns: list, categorical: list[bool], n: int):
    """(first column index, float64[k, n], float64[k, n] scratch) blocks of ``columns``
    (raw, this rank's ``n`` rows), NaN where missing (categorical codes: -1), about
    ``BLOCK_BYTES`` each.  Each block reuses the last one's memory (fresh memory costs a
    page fault every 4 KB: a third of the time, one column at a time)."""
    per = max(1, BLOCK_BYTES // (8 * max(n, 1)))
    memory = np.empty((2, min(per, len(columns)), n))
    for first in range(0, len(columns), per):
        block = memory[0, :min(per, len(columns) - first)]
        for i, j in enumerate(range(first, first + block.shape[0])):
            block[i] = columns[j]
            if categorical[j]:
                block[i][np.asarray(columns[j]) < 0] = np.nan
        yield first, block, memory[1, :len(block)]


def global_column_stats(columns: list, categorical: list[bool], names: list[str],
                        w: np.ndarray, comm, source: str) -> ColumnStats:
    """Statistics of each raw column in ``columns`` (this rank's rows; float64 numerics with
    NaN, or int categorical codes with -1 when ``categorical``) with row weights ``w``
    float64[n] in [0, 1] (``normalized_weights``), over every rank.  A collective: two
    allreduces.  The columns are taken a block at a time (``BLOCK_BYTES``), a few numpy
    passes per block.  UserError naming a numeric column (``names``, of ``source``) whose
    statistics cannot be used."""
    n = int(np.asarray(w).shape[0])
    ends = np.full((len(columns), 2), -np.inf)
    for first, block, _ in _column_blocks(columns, categorical, n) if n else ():
        hi, lo = np.fmax.reduce(block, axis=1), np.fmin.reduce(block, axis=1)
        present = ~np.isnan(hi)            # fmax / fmin skip NaN: NaN only when all are
        ends[first:first + len(block)][present] = np.column_stack([hi, -lo])[present]
    comm.allreduce_max(ends)
    lo, hi = -ends[:, 1], ends[:, 0]
    shifts = np.array([shift_and_scale(float(a), float(b)) for a, b in zip(lo, hi)])
    sums = np.zeros((len(columns), SUMS))
    for first, block, scratch in _column_blocks(columns, categorical, n) if n else ():
        last = first + len(block)
        sums[first:last] = block_sums(block, w, shifts[first:last, 0], shifts[first:last, 1],
                                      scratch)
    comm.allreduce_sum(sums)
    mean, sd = np.zeros(len(columns)), np.zeros(len(columns))
    for j, cat in enumerate(categorical):
        if not cat:
            mean[j], sd[j] = mean_sd(sums[j], lo[j], hi[j], names[j], source)
    return ColumnStats(count=sums[:, 0], wsum=sums[:, 1], mean=mean, sd=sd, lo=lo, hi=hi)
