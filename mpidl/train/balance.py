"""balance_classes: H2O's stratified over/under-sampling of the training rows
(``MRUtils.sampleFrameStratified``, called by ``DeepLearning.trainModel``).

The per-class sampling ratios come from the global (weighted) class counts, one allreduce
(with replicated data every rank holds all rows, so its own counts are global):
``class_sampling_factors`` when given, else the ratios that balance the classes with the
majority class at 1; then all ratios are scaled down so the expected rows stay within
``max_after_balance_size`` x the training rows (at least one row per class).  Each row is
kept ``floor(r) + [u < frac(r)]`` times (r its class's ratio, u a seeded uniform draw per
row), and the kept rows are shuffled.  Every rank samples its own shard with a random stream
keyed by the seed and the shard's first row, so a run is reproducible at a fixed rank count
(with replicated data all ranks draw the same sample, the 1-rank one).  When a class got no
row, H2O draws again with seed + 1 (10 tries at most); so does this.

The sampled rows are new per-rank arrays (gathered by index): rows held in a node's shared
memory are only read.  Scoring corrects the probabilities back
(``model/class_dist.py``).
"""

from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..launch_env import env_local_ranks
from ..memory import require

_TRIES = 10               # H2O's draws before it keeps a sample missing a class
_SHUFFLE_SALT = 0x580FF13  # H2O's seed offset for shuffling the sampled rows


def class_weights(y: np.ndarray, w: np.ndarray, nclasses: int, comm,
                  replicated: bool) -> np.ndarray:
    """float64[nclasses]: the summed row weights of each class over all ranks (``y``: class
    codes[n] of this rank's rows, ``w``: float weights[n])."""
    local = np.bincount(y.astype(np.int64), weights=w, minlength=nclasses).astype(np.float64)
    return local if replicated else comm.allreduce_sum(local)


def sampling_ratios(dist: np.ndarray, nrows: int, factors, max_after: float,
                    levels: list[str], response: str) -> np.ndarray:
    """float64[K] per-class sampling ratios (H2O's ``sampleFrameStratified``): ``dist`` the
    global weighted class counts[K], ``nrows`` the training rows, ``factors`` the user's
    class_sampling_factors (None: balance), ``max_after`` max_after_balance_size."""
    k = dist.shape[0]
    max_rows = max(int(max_after * nrows), k)
    if factors is not None:
        ratios = np.asarray(factors, dtype=np.float64)
    else:
        empty = np.flatnonzero(dist == 0)
        if empty.size:
            raise UserError(f"parameter 'balance_classes': class '{levels[empty[0]]}' of response "
                            f"'{response}' has no training rows, so it cannot be balanced (give "
                            "class_sampling_factors)")
        ratios = (nrows / k) / dist
        ratios /= ratios.min()             # the majority class keeps ratio 1
    expected = float(np.dot(ratios, dist))
    actual = min(max_rows, round(expected))
    if expected > 0 and actual != expected:
        ratios = ratios * (actual / expected)
    return ratios


def draw_rows(y: np.ndarray, ratios: np.ndarray, seed: int, first_row: int,
              attempt: int) -> np.ndarray:
    """int64[m]: indices of this rank's sampled rows, each row repeated floor(r) or
    floor(r) + 1 times (r its class's ratio), shuffled; ``y``: class codes[n]."""
    rng = np.random.default_rng([(seed + attempt) & (2**63 - 1), first_row])
    r = ratios[y.astype(np.int64)]
    whole = np.floor(r)
    reps = whole.astype(np.int64) + (rng.random(y.shape[0]) < r - whole)
    idx = np.repeat(np.arange(y.shape[0], dtype=np.int64), reps)
    shuffle = np.random.default_rng([(seed + _SHUFFLE_SALT) & (2**63 - 1), first_row])
    return idx[shuffle.permutation(idx.shape[0])]


def _row_bytes(shard) -> int:
    """Bytes one row of the shard's arrays takes."""
    arrays = (shard.nums, shard.cats, shard.y, shard.w, shard.kept)
    return sum(a.itemsize * int(np.prod(a.shape[1:])) for a in arrays if a is not None)


def balance_shard(shard, model, comm, replicated: bool, log):
    """This rank's shard resampled per class (a new Shard of per-rank arrays); records the
    class distributions before and after in the model (``prior_class_dist``,
    ``model_class_dist``).  A collective of ``comm``."""
    p, d = model.params, model.dinfo
    k = d.nclasses
    prior = class_weights(shard.y, shard.w, k, comm, replicated)
    rows = shard.n if replicated else int(comm.allreduce_sum(np.array([shard.n]))[0])
    ratios = comm.call_agreed(sampling_ratios, prior, rows, p.class_sampling_factors,
                              p.max_after_balance_size, d.response_domain, d.response)
    for attempt in range(_TRIES):
        idx = draw_rows(shard.y, ratios, p.seed, shard.first_row, attempt)
        after = class_weights(shard.y[idx], shard.w[idx], k, comm, replicated)
        if after.min() > 0:
            break
    comm.call_agreed(require, idx.shape[0] * _row_bytes(shard),
                     f"parameter 'balance_classes' ({idx.shape[0]} rows after balancing)",
                     env_local_ranks())
    model.prior_class_dist = (prior / prior.sum()).tolist()
    model.model_class_dist = (after / max(after.sum(), 1e-300)).tolist()
    log("balance_classes: sampling ratios " +
        ", ".join(f"{lv}: {r:.4g}" for lv, r in zip(d.response_domain, ratios)))
    return type(shard)(shard.nums[idx], shard.cats[idx], shard.y[idx], shard.w[idx],
                       shard.first_row, None if shard.kept is None else shard.kept[idx])

