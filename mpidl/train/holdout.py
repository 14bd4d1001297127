"""A cross-validation fold model's rows (spec 10.1): the training shard less the fold's rows,
and the fold's rows (the holdout) as its validation set.

H2O trains fold model k on the whole frame with weight 0 on the rows of fold k and validates
it on the same frame with the complementary weights; 0/1 weights are a plain skip mask there,
so the rows trained and scored are these.  The column plan (standardization, constant
columns) comes from the whole frame, as H2O's does, so every fold model shares it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.hdf5 import block_range
from .evaluate import ScoreSet
from .setup import Shard, _validation_sample


@dataclass
class Holdout:
    """The fold to hold out.  folds: int32[N], the fold of every row of the training frame
    (``cv/folds.py``); fold: the one held out; keep: called on every rank with
    ``(model, rows, held, threads)`` once the model is final (rows: int64[n] global row
    indices of this rank's holdout rows ``held``, a ScoreSet)."""

    folds: np.ndarray
    fold: int
    keep: Callable


def split_shard(shard: Shard, holdout: Holdout, comm,
                replicated: bool) -> tuple[Shard, ScoreSet, np.ndarray]:
    """(training shard, holdout rows, their int64 global indices) of this rank.  With
    replicated data each rank keeps only its block of the holdout, so every holdout row is
    scored on one rank."""
    rows = shard.first_row + shard.kept.astype(np.int64)
    held = holdout.folds[rows] == holdout.fold
    trains = ~held
    if replicated:
        lo, hi = block_range(holdout.folds.shape[0], comm.size, comm.rank)
        held &= (rows >= lo) & (rows < hi)
    return shard.subset(trains), shard.score_set(held), rows[held]


def holdout_sample(held: ScoreSet, wanted: int, seed: int, comm) -> ScoreSet:
    """The validation sample of the holdout rows (score_validation_samples, as for a
    validation frame; 0 = all)."""
    idx, _ = _validation_sample(held.n, wanted, seed, comm)
    return held.take(idx)
