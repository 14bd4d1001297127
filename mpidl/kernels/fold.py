"""The fold of a delayed model average into a rank's model (``averaging_overlap``): one pass
over the flat buffer instead of numpy's three temporaries (``train/overlap.py`` says why)."""

from __future__ import annotations

from numba import njit


@njit(cache=True, error_model="numpy")
def fold_delayed_average(local, snapshot, summed, contributors, nonnegative_from):
    """In place: ``local <- summed / contributors + (local - snapshot)``, every element.

    local: float32[n], this rank's model now; snapshot: float32[n], the model it had when the
    sum started; summed: float32[n], the sum over ranks of their snapshots; contributors: the
    ranks in that sum, as a scalar of the buffer's dtype (> 0).  Elements from ``nonnegative_from`` on (optimizer running means
    of squares) are kept >= 0: the fold adds another rank's difference, which can take such a
    mean below zero.
    """
    for i in range(local.shape[0]):
        v = summed[i] / contributors + (local[i] - snapshot[i])
        local[i] = 0 if i >= nonnegative_from and v < 0 else v
