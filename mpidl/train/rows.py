"""Which rows each rank trains in an iteration: H2O's row scheduler (spec section 5.3) over ranks.

H2O's rules, with mpidl's rank shard in the place of H2O's chunk:

- **Automatic shuffling** (decided once, before the first iteration): on when the user asks
  for it; when the data is replicated on several ranks, not reproducible, and every training
  rank does a whole pass per iteration (``tspi = R x trainers``); and when the whole frame is
  one chunk (one rank, reproducible: H2O rebalances a reproducible frame into one chunk) and
  an iteration is one epoch.
- **Sampled subsets visited in shuffled order**: an iteration's rows on a rank are ``repeats``
  passes over one permutation drawn for the iteration; a pass that takes fewer than all rows
  takes a random subset, in the permutation's order.  Without sampling (whole passes, no
  shuffle) a pass is a linear scan in file order.
- **Importance sampling** with observation weights (not constant, not 0/1): rows are drawn
  with replacement in proportion to their weight, and a rank's share of an iteration is its
  share of the GLOBAL weight mass (H2O's ``relative_chunk_weight``), so every row of the frame
  is seen in proportion to its weight whichever rank holds it.

Deliberate differences (docs/quirks.md): a rank trains exactly its apportioned count of rows
(H2O skips each row with probability ``1 - fraction``, so counts vary and the last iteration
can miss or overshoot ``epochs``); the apportioned counts of all ranks add up to ``tspi``.
Each rank draws from its own stream, seeded by (seed, iteration, rank), so ranks holding the
same rows visit them in different orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def importance_weights(w: np.ndarray) -> np.ndarray | None:
    """The weights to sample by, or None when they are constant or 0/1 (a plain row mask)."""
    if w.size == 0:
        return None
    if np.all(w == w[0]) or np.all((w == 0) | (w == 1)):
        return None
    return w


def auto_shuffle(user_shuffle: bool, replicated: bool, nranks: int, trainers: int,
                 reproducible: bool, tspi: int, rows: int) -> bool:
    """H2O's shuffle decision (``DeepLearning.trainModel``), made once with the first tspi.

    replicated: every rank holds all rows; trainers: ranks that train; rows: training rows R.
    """
    if user_shuffle:
        return True
    if replicated and nranks > 1 and not reproducible and tspi == rows * trainers:
        return True
    return tspi == rows and nranks == 1 and reproducible


def apportion(total: int, shares: np.ndarray) -> np.ndarray:
    """int64 counts, one per share, that add up to ``total`` exactly (largest remainder; ties
    to the lower index).  shares: float64[k] >= 0, not all 0."""
    exact = total * shares / shares.sum()
    counts = np.floor(exact).astype(np.int64)
    left = int(total - counts.sum())
    if left > 0:
        counts[np.argsort(-(exact - counts), kind="stable")[:left]] += 1
    return counts


def rank_shares(comm, n_local: int, weights: np.ndarray | None, trains: bool,
                replicated: bool) -> np.ndarray:
    """float64[comm.size]: each rank's share of an iteration's rows (a collective).

    Replicated: the training ranks share equally.  Sharded: by weight mass with importance
    weights, else by row count (a rank that does not train has share 0).
    """
    mine = np.zeros(comm.size)
    if trains:
        mine[comm.rank] = (1.0 if replicated else
                           float(weights.sum()) if weights is not None else float(n_local))
    return comm.allreduce_sum(mine)


@dataclass
class RowPlan:
    """How this rank turns an iteration's global row count into the rows it visits.

    shares: float64[nranks] from ``rank_shares``; weights: this rank's importance-sampling
    weights float64[n_local] or None; shuffle: the ``auto_shuffle`` decision.
    """

    n_local: int
    rank: int
    shares: np.ndarray
    shuffle: bool
    weights: np.ndarray | None = None

    def local_rows(self, tspi: int) -> int:
        """This rank's rows of an iteration of ``tspi`` global rows (all ranks' add up to it)."""
        if self.n_local == 0 or self.shares.sum() <= 0:
            return 0
        return int(apportion(int(tspi), self.shares)[self.rank])

    def order(self, count: int, rng: np.random.Generator,
              shuffle: bool | None = None) -> np.ndarray:
        """int64[count] indices into the local rows for one iteration (``shuffle`` overrides
        the plan's decision)."""
        n = self.n_local
        if n == 0 or count <= 0:
            return np.zeros(0, dtype=np.int64)
        if self.weights is not None:
            p = self.weights / self.weights.sum()
            return rng.choice(n, size=count, replace=True, p=p).astype(np.int64)
        repeats = -(-count // n)
        per_pass = apportion(count, np.ones(repeats))
        sample = self.shuffle if shuffle is None else shuffle
        if not sample and count % n == 0:
            return np.tile(np.arange(n, dtype=np.int64), repeats)
        perm = rng.permutation(n)
        parts = [perm if k == n else perm[np.sort(rng.choice(n, size=k, replace=False))]
                 for k in per_pass]
        return np.concatenate(parts).astype(np.int64)

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """int64[count] indices into the local rows for the rows trained while waiting: a
        random subset in random order, as ``order(count, rng, shuffle=True)`` draws it, but
        drawn in O(count) random numbers when it is less than one pass (``order`` permutes
        all ``n_local`` rows first, which on a large shard costs more than the rows)."""
        if self.weights is not None or not 0 < count < self.n_local:
            return self.order(count, rng, shuffle=True)
        return rng.choice(self.n_local, size=count, replace=False).astype(np.int64)
