"""Which fold holds each row of the training frame (H2O's ``ModelBuilder`` fold assignment).

A fold is a function of the row's global index in the training frame (and of the data for
Stratified and fold_column), never of the rank that reads the row, so the folds are the same
whatever the rank count.  Every rank computes the whole assignment, int32[N] for N rows of the
frame, from one column read whole (the response or the fold column): small next to a shard.

- ``Modulo``: row i -> fold i mod K.
- ``Random`` (and ``AUTO``): fold drawn uniformly from 0..K-1 for each row, one stream seeded by
  (seed, FOLD_STREAM) over all rows in frame order.
- ``Stratified``: within each response value (a missing response is a stratum of its own) the
  rows, in frame order, take the folds 0, 1, ..., K-1, 0, ... of a seeded random permutation
  of their positions, so every fold holds each class's rows to within one.
- ``fold_column``: the column's distinct values, sorted (categorical: by level index), are the
  folds 0..K-1 (H2O asks for 0..K-1, 1..K or levels; any distinct values work here).
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError

FOLD_STREAM = 0xF01D      # keeps the fold stream apart from the other streams of ``seed``


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed & (2**63 - 1), FOLD_STREAM])


def modulo_folds(nrows: int, nfolds: int) -> np.ndarray:
    """int32[nrows]: row i in fold i mod nfolds."""
    return (np.arange(nrows) % nfolds).astype(np.int32)


def random_folds(nrows: int, nfolds: int, seed: int) -> np.ndarray:
    """int32[nrows]: a uniform random fold per row from the seeded fold stream."""
    return _rng(seed).integers(0, nfolds, size=nrows).astype(np.int32)


def stratified_folds(response: np.ndarray, nfolds: int, seed: int) -> np.ndarray:
    """int32[N]: folds balanced within each value of ``response`` (float64 or int codes[N];
    NaN or a negative code, missing, is one stratum)."""
    raw = np.asarray(response)
    values = raw.astype(np.float64)
    values[np.isnan(values) | ((values < 0) if np.issubdtype(raw.dtype, np.integer)
                               else False)] = -np.inf
    rng = _rng(seed)
    folds = np.empty(values.shape[0], dtype=np.int32)
    for stratum in np.unique(values):
        rows = np.flatnonzero(values == stratum)
        folds[rows[rng.permutation(rows.size)]] = np.arange(rows.size) % nfolds
    return folds


def column_folds(values: np.ndarray, source: str, column: str) -> np.ndarray:
    """int32[N]: index of each row's value among the column's sorted distinct values.  A
    missing value, or fewer than two distinct values, is a UserError naming the column."""
    x = np.asarray(values, dtype=np.float64)
    if np.isnan(x).any() or (np.issubdtype(np.asarray(values).dtype, np.integer)
                             and (x < 0).any()):
        raise UserError(f"{source}: parameter 'fold_column': column '{column}' has missing "
                        "values; every row needs a fold")
    distinct, folds = np.unique(x, return_inverse=True)
    if distinct.size < 2:
        raise UserError(f"{source}: parameter 'fold_column': column '{column}' has "
                        f"{distinct.size} distinct value(s); cross-validation needs >= 2 folds")
    return folds.astype(np.int32)


def assign_folds(params, frame) -> np.ndarray:
    """int32[N] fold of every row of ``frame`` (the training frame) for ``params``: by the
    fold column when set, else by ``fold_assignment`` over ``nfolds`` folds."""
    source = params.training_frame
    if params.fold_column:
        col = params.fold_column
        if col not in frame.info.names:
            raise UserError(f"{source}: parameter 'fold_column': no column '{col}'")
        return column_folds(frame.read([col])[col], source, col)
    k, n = int(params.nfolds), frame.nrows
    if k > n:
        raise UserError(f"{source}: parameter 'nfolds': {k} folds for {n} rows; use at most "
                        f"{n} folds")
    if params.fold_assignment == "Modulo":
        return modulo_folds(n, k)
    if params.fold_assignment == "Stratified":
        resp = params.response_column
        return stratified_folds(frame.read([resp])[resp], k, params.seed)
    return random_folds(n, k, params.seed)
