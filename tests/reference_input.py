"""H2O's input assembly (DataInfo), plain numpy, float64: which columns feed the network, in
which slots, scaled how.  Written from H2O's spec (sections 1.1, 1.2) and, where it is silent
or wrong, H2O-3's source:

- ``hex/DataInfo.java`` (constructor): categorical columns are ordered by an exchange sort on
  the domain size, largest first, which is not stable: of two equally large domains the later
  column may come first;
- ``water/fvec/RollupStats.java`` and ``water/util/MathUtils.BasicStats`` (the weighted
  statistics ``DeepLearning.makeDataInfo`` takes from ``GLMTask.YMUTask``): the standard
  deviation is the sample one, ``sqrt(n / (n - 1) * sum w (x - mean)^2 / sum w)`` over the
  ``n`` non-missing values with a non-zero weight (the spec's "population" is not what the
  code computes).

mpidl's documented choices (docs/quirks.md): a missing level goes to the block's NA slot
with and without use_all_factor_levels, and a missing numeric is imputed with the column mean
in training and scoring whether or not the column is standardized.

A column here is ``("num", float64[n] with NaN)`` or ``("cat", list of level names or None)``;
a categorical's levels are the training frame's domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Plan:
    """The input layout: categorical (name, levels) blocks, then numeric (name, sub, mul,
    fill) slots; the response's (sub, mul); the switches that shape the rows."""

    cats: list
    nums: list
    response: str
    resp: tuple
    weights: str | None
    use_all: bool
    skip: bool

    def block_size(self, levels) -> int:
        return len(levels) - (0 if self.use_all else 1) + 1

    @property
    def full_n(self) -> int:
        return sum(self.block_size(lv) for _, lv in self.cats) + len(self.nums)


def h2o_cat_order(cats: list) -> list:
    """(name, levels) pairs in H2O's order: DataInfo's exchange sort, larger domains first."""
    cats = list(cats)
    for i in range(len(cats)):
        for j in range(i + 1, len(cats)):
            if len(cats[i][1]) < len(cats[j][1]):
                cats[i], cats[j] = cats[j], cats[i]
    return cats


def weighted_stats(x: np.ndarray, w: np.ndarray) -> tuple:
    """(mean, sd) over the non-missing values with a non-zero weight, sd as BasicStats'
    (the sample one when all weights are 1)."""
    ok = ~np.isnan(x) & (w > 0)
    xs, ws = x[ok], w[ok]
    n = xs.size
    if n == 0:
        return 0.0, 0.0
    mean = (ws * xs).sum() / ws.sum()
    var = (ws * (xs - mean) ** 2).sum() / ws.sum() * (n / (n - 1) if n > 1 else 0.0)
    return float(mean), float(np.sqrt(var))


def _constant(kind: str, values) -> bool:
    """ignore_const_cols: no values, or min == max over the present ones."""
    present = [v for v in values if v is not None] if kind == "cat" else \
        np.asarray(values)[~np.isnan(values)]
    return len(present) == 0 or len(set(np.asarray(present).tolist())) == 1


def fit(columns: dict, domains: dict, response: str, weights: str | None = None,
        use_all: bool = True, standardize: bool = True, skip: bool = False,
        regression: bool = True) -> Plan:
    """The plan of a training frame (``domains``: levels of each categorical column)."""
    n = len(columns[response][1])
    w = np.ones(n) if weights is None else np.nan_to_num(columns[weights][1], nan=0.0)
    cats, nums = [], []
    for name, (kind, values) in columns.items():
        if name in (response, weights) or _constant(kind, values):
            continue
        if kind == "cat":
            cats.append((name, list(domains[name])))
            continue
        mean, sd = weighted_stats(np.asarray(values, dtype=np.float64), w)
        sub, mul = (mean, 1.0 / sd if sd > 0 else 1.0) if standardize else (0.0, 1.0)
        nums.append((name, sub, mul, mean))
    resp = (0.0, 1.0)
    if regression and standardize:
        mean, sd = weighted_stats(np.asarray(columns[response][1], dtype=np.float64), w)
        resp = (mean, 1.0 / sd if sd > 0 else 1.0)
    return Plan(h2o_cat_order(cats), nums, response, resp, weights, use_all, skip)


def _cat_slot(plan: Plan, levels, value) -> int | None:
    """Slot within the block of one categorical value; None: no active slot."""
    na = plan.block_size(levels) - 1
    if value is None or value not in levels:     # missing or unseen: the NA bucket
        return na
    code = levels.index(value)
    if plan.use_all:
        return code
    return None if code == 0 else code - 1


def assemble(plan: Plan, columns: dict, training: bool) -> tuple:
    """(X float64[rows, full_n], kept row indices): the network inputs of a frame's rows.

    Dropped: a missing response, a zero / missing weight (when those columns are there),
    and in training under Skip any missing predictor.  Scoring always imputes.
    """
    n = len(next(iter(columns.values()))[1])
    X = np.zeros((n, plan.full_n))
    keep = np.ones(n, dtype=bool)
    off = 0
    for name, levels in plan.cats:
        values = columns[name][1]
        for i, v in enumerate(values):
            keep[i] &= not (training and plan.skip and v is None)
            s = _cat_slot(plan, levels, v)
            if s is not None:
                X[i, off + s] = 1.0
        off += plan.block_size(levels)
    for j, (name, sub, mul, fill) in enumerate(plan.nums):
        x = np.asarray(columns[name][1], dtype=np.float64)
        if training and plan.skip:
            keep &= ~np.isnan(x)
        X[:, off + j] = (np.where(np.isnan(x), fill, x) - sub) * mul
    if plan.response in columns:
        y = columns[plan.response][1]
        keep &= np.array([v is not None and not (isinstance(v, float) and np.isnan(v))
                          for v in y])
    if plan.weights and plan.weights in columns:
        w = np.asarray(columns[plan.weights][1], dtype=np.float64)
        keep &= ~np.isnan(w) & (w > 0)
    idx = np.flatnonzero(keep)
    return X[idx], idx


def response(plan: Plan, values) -> np.ndarray:
    """Regression: the (standardized) response y' = (y - sub) * mul."""
    return (np.asarray(values, dtype=np.float64) - plan.resp[0]) * plan.resp[1]
