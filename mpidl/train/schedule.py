"""How much each iteration trains, and which rows (spec sections 5.3, 6.2, 6.3).

``tspi`` (train_samples_per_iteration) counts rows summed over all ranks.  Each rank turns it
into a fraction of its local rows and an ``order`` array: the row indices its Hogwild threads
stream through in this iteration.
"""

from __future__ import annotations

import math

import numpy as np


def initial_tspi(user: int, rows: int, nranks: int, replicated: bool, epochs: float,
                 t_row: float, t_comm: float, target: float) -> int:
    """Global samples per iteration for the user value ``user`` (0, -1, -2 or k > 0).

    rows: training rows R; t_row: estimated seconds per row on one rank (all its threads);
    t_comm: seconds of one model allreduce; target: target_ratio_comm_to_comp.
    """
    if user == 0:
        return rows
    if user == -1:
        return rows * nranks if replicated else rows
    if user > 0:
        return int(max(1, min(user, epochs * rows)))
    return autotune_tspi(rows, nranks, epochs, t_row, t_comm, target)


def autotune_tspi(rows: int, nranks: int, epochs: float, t_row: float, t_comm: float,
                  target: float) -> int:
    """-2: the iteration length whose communication share is ``target`` (spec 6.3).

    With one rank there is nothing to communicate; H2O then aims at iterations of about 10 s
    (its 1e4 us overhead at a 1e-3 share), which is what this gives with t_comm = 0.01.
    Clamps as H2O: at most 10 epochs' worth over all ranks, snap down to whole epochs when
    within 20 %, at least ~10 iterations per run, at most ~10 s per iteration on one rank.
    """
    if nranks == 1:
        t_comm, target = 0.01, 1e-3
    t_row_global = max(t_row, 1e-9) / nranks
    tspi = (t_comm / target - t_comm) / t_row_global
    tspi = min(tspi, nranks * rows * 10)
    if tspi > rows and (tspi % rows) / rows < 0.2:
        tspi -= tspi % rows
    tspi = min(tspi, math.floor(epochs * rows / 10))
    if nranks == 1:
        tspi = min(tspi, 10 * math.floor(1.0 / max(t_row, 1e-9)))
    tspi = max(1, tspi)
    return int(min(tspi, 100000 * nranks))


def retune_tspi(tspi: int, t_comm: float, t_iter: float, target: float) -> int:
    """H2O's online correction (spec 6.3): scale tspi by clip(target / ratio, 0.5, 2) when off by >20 %."""
    if t_iter <= 0:
        return tspi
    ratio = t_comm / t_iter
    corr = min(2.0, max(0.5, target / max(ratio, 1e-12)))
    if corr < 0.8 or corr > 1.2:
        return max(1, int(tspi * corr))
    return tspi


def estimate_row_seconds(units, threads: int, flops_per_second: float = 2e9) -> float:
    """First guess of seconds per training row before any measurement (per rank)."""
    weights = sum(units[i] * units[i + 1] for i in range(len(units) - 1))
    return 6.0 * weights / (flops_per_second * max(1, threads))


def local_fraction(tspi: int, rows: int, nranks: int, replicated: bool) -> float:
    """Fraction of this rank's local rows to train per iteration."""
    return tspi / rows / (nranks if replicated else 1)


def iteration_order(n_local: int, fraction: float, rng: np.random.Generator, shuffle: bool,
                    weights: np.ndarray | None) -> np.ndarray:
    """int64 row indices (into the local rows) for one iteration.

    ``fraction`` of the local rows: whole passes (in file order, or shuffled when
    ``shuffle``), then a random subset for the fractional rest.  With observation weights
    (not constant, not 0/1) rows are drawn with replacement in proportion to their weight,
    H2O's importance sampling: weights change how often a row is seen, never the gradient.
    """
    if n_local == 0 or fraction <= 0:
        return np.zeros(0, dtype=np.int64)
    total = int(round(fraction * n_local))
    if weights is not None:
        p = weights / weights.sum()
        return rng.choice(n_local, size=total, replace=True, p=p).astype(np.int64)
    full, rest = divmod(total, n_local)
    parts = [rng.permutation(n_local) if shuffle else np.arange(n_local) for _ in range(full)]
    if rest:
        parts.append(np.sort(rng.choice(n_local, size=rest, replace=False)) if not shuffle
                     else rng.permutation(n_local)[:rest])
    return np.concatenate(parts).astype(np.int64)


def importance_weights(w: np.ndarray) -> np.ndarray | None:
    """The weights to sample by, or None when they are constant or 0/1 (a plain row mask)."""
    if w.size == 0:
        return None
    if np.all(w == w[0]) or np.all((w == 0) | (w == 1)):
        return None
    return w
