"""An exact weighted quantile of values spread over the ranks, from tiny allreduces only.

The result equals ``metrics.weighted_quantile`` on the concatenation of every rank's values
(H2O's interpolating quantile, weights as replication counts).  Each rank sorts its own values;
the two order statistics the quantile interpolates between are found by bisection over the
float64 values in their bit order (at most 64 rounds, each one allreduce of two sums), so no
rank ever holds another rank's values.
"""

from __future__ import annotations

import math

import numpy as np

_SIGN = 1 << 63


def _key(v: float) -> int:
    """An integer that orders float64 values as the values do (-0.0 just below +0.0)."""
    i = int(np.array([v], dtype=np.float64).view(np.int64)[0])
    return i if i >= 0 else -(i & (_SIGN - 1)) - 1


def _value(k: int) -> float:
    """The float64 value of key ``k`` (inverse of ``_key``)."""
    bits = k if k >= 0 else (-(k + 1)) | _SIGN
    return float(np.array([bits], dtype=np.uint64).view(np.float64)[0])


def _weight_up_to(xs: np.ndarray, cum: np.ndarray, v: float) -> float:
    """Weight of this rank's values <= v (``xs`` sorted, ``cum`` its cumulative weights)."""
    i = int(np.searchsorted(xs, v, side="right"))
    return float(cum[i - 1]) if i > 0 else 0.0


def _smallest_above(xs, cum, targets: list[float], lo_key: int, hi_key: int, comm) -> list[float]:
    """For each target t, the smallest value v with global weight(<= v) > t (the largest value
    when no such v exists).  ``lo_key`` / ``hi_key``: keys of the global min / max."""
    lo = [lo_key - 1] * len(targets)     # weight(<= value(lo)) <= t: nothing lies below min
    hi = [hi_key] * len(targets)
    while any(h - l > 1 for l, h in zip(lo, hi)):
        mids = [l + (h - l) // 2 for l, h in zip(lo, hi)]
        local = np.array([_weight_up_to(xs, cum, _value(m)) for m in mids])
        below = comm.allreduce_sum(local)
        for j, t in enumerate(targets):
            if hi[j] - lo[j] <= 1:
                continue
            if below[j] > t:
                hi[j] = mids[j]
            else:
                lo[j] = mids[j]
    return [_value(h) for h in hi]


def global_weighted_quantile(x: np.ndarray, w: np.ndarray, alpha: float, comm) -> float:
    """The ``alpha`` weighted quantile of all ranks' ``x`` (float64[n], finite) with weights
    ``w`` (float64[n], > 0); NaN when no rank has a value.  A collective."""
    x = np.asarray(x, dtype=np.float64).ravel()
    w = np.asarray(w, dtype=np.float64).ravel()
    order = np.argsort(x, kind="stable")
    xs, cum = x[order], np.cumsum(w[order])
    ends = comm.allreduce_max(np.array([xs[-1] if xs.size else -np.inf,
                                        -xs[0] if xs.size else -np.inf]))
    total = float(comm.allreduce_sum(np.array([cum[-1] if xs.size else 0.0]))[0])
    if not np.isfinite(ends[0]):
        return math.nan
    pos = max(alpha * (total - 1.0), 0.0)
    lo_row = math.floor(pos)
    targets = [float(lo_row)] if pos == lo_row else [float(lo_row), float(lo_row + 1)]
    vals = _smallest_above(xs, cum, targets, _key(-float(ends[1])), _key(float(ends[0])), comm)
    if len(vals) == 1:
        return vals[0]
    return vals[0] + (vals[1] - vals[0]) * (pos - lo_row)
