"""The projection of H2O's ``Eigen`` categorical encoding, by its intent: a categorical column
becomes one numeric column, the projection of each row's one-hot vector onto the leading
eigenvector of the one-hot covariance of the training levels, ``C = diag(p) - p p^T`` (p: the
level frequencies among the training rows with a level), i.e. the first principal component
of the indicator columns.

``C`` is a diagonal matrix minus a rank-one term, so its eigenvalues interlace the sorted
frequencies and the largest one, lambda, solves the secular equation
``sum_i p_i^2 / (p_i - lambda) = 1`` in (p_(2), p_(1)) when the most frequent level is
unique; its eigenvector is ``v_i = p_i / (p_i - lambda)``: O(L) per step for L levels, so
columns with thousands of levels need no cap.  The rules that make the vector unique:

- sign: the most frequent level's component is positive;
- m >= 2 levels tied at the top frequency: lambda = p_(1) has m - 1 copies (vectors on the
  tied levels summing to 0); the vector is the projection of the first tied level's indicator
  onto that space, ``e_a - 1_tied / m`` (a: the lowest level index among the tied), normalized;
- one level seen: its indicator (C is 0); no level seen: the zero vector;
- a training level without rows has component 0 (its indicator has no variance).
"""

from __future__ import annotations

import numpy as np


def leading_eigenvector(counts) -> np.ndarray:
    """float64[L], unit norm (or zeros): the leading eigenvector of ``diag(p) - p p^T`` for
    ``counts`` (int[L], the training rows of each level; missing rows not counted), with the
    module's rules for sign and ties."""
    counts = np.asarray(counts, dtype=np.float64)
    out = np.zeros(counts.size)
    total = counts.sum()
    if total <= 0:
        return out
    p = counts / total
    top = int(np.argmax(p))
    tied = p == p[top]
    if np.count_nonzero(p) == 1:
        out[top] = 1.0
        return out
    if tied.sum() > 1:
        out[tied] = -1.0 / tied.sum()
        out[top] += 1.0
        return out / np.linalg.norm(out)
    gap = p[top] - np.max(p[~tied])          # p_(1) - p_(2) > 0
    shift = _secular_root(p, top, gap)       # p_(1) - lambda, in (0, gap)
    denom = p - p[top] + shift               # p_i - lambda; < 0 for every level but top
    out = p / denom
    out[top] = p[top] / shift
    return out / np.linalg.norm(out)


def _secular_root(p: np.ndarray, top: int, gap: float) -> float:
    """delta = p_top - lambda in (0, gap) where sum_i p_i^2 / (p_i - lambda) = 1, by
    bisection to the last representable float (the left side falls as delta grows)."""
    others = np.delete(p, top)
    others = others[others > 0]
    below = others - p[top]                  # p_i - p_top < 0, exact differences

    def excess(delta: float) -> float:
        return p[top] ** 2 / delta + float(np.sum(others ** 2 / (below + delta))) - 1.0

    lo, hi = 0.0, gap
    while True:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            return mid
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
