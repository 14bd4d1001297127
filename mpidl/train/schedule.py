"""How much each iteration trains (spec sections 6.2, 6.3).

``tspi`` (train_samples_per_iteration) counts rows summed over all ranks; ``train/rows.py``
turns it into each rank's rows.
"""

from __future__ import annotations

import math


def initial_tspi(user: int, rows: int, trainers: int, replicated: bool, epochs: float,
                 t_row: float, t_comm: float, target: float) -> int:
    """Global samples per iteration for the user value ``user`` (0, -1, -2 or k > 0).

    rows: training rows R; trainers: ranks that train (1 in single_node_mode); t_row: measured
    seconds per row on one rank (all its threads); t_comm: measured seconds of one model
    allreduce; target: target_ratio_comm_to_comp.
    """
    if user == 0:
        return rows
    if user == -1:
        return rows * trainers if replicated else rows
    if user > 0:
        return int(max(1, min(user, epochs * rows)))
    return autotune_tspi(rows, trainers, epochs, t_row, planned_overhead(trainers, t_comm), target)


def planned_overhead(trainers: int, t_allreduce: float, measured: float = 0.0) -> float:
    """Seconds of per-iteration overhead that -2 plans with on several training ranks.

    H2O's estimate (spec 6.3 step 7): a fixed 0.1 s plus ``2 floor(log2 N)`` model collectives,
    here the measured allreduce; or the ``measured`` overhead (allreduces, waiting, Python,
    averaged over ranks) when that is larger.  The fixed part keeps H2O's iteration lengths
    (>= ~2 s at the default 5 %): planning with the measured ~15 ms alone made iterations of
    0.3 s on one node, which paid the full 5 % for averages no model needed (2 x 1 on MNIST:
    85 % efficiency against 93 % with 5x longer iterations, same test error).
    """
    queue = 2 * math.floor(math.log2(max(1, trainers)))
    return max(0.1 + queue * t_allreduce, measured)


def autotune_tspi(rows: int, trainers: int, epochs: float, t_row: float, t_comm: float,
                  target: float) -> int:
    """-2: the iteration length whose communication share is ``target`` (spec 6.3).

    Solves ``t_comm / (t_comm + tspi * t_row / trainers) = target`` for tspi with the
    *measured* per-row compute time (H2O uses a Linpack estimate, then corrects by at most 2x
    per iteration; measuring needs no correction) and ``t_comm``, the per-iteration overhead
    to plan with (``planned_overhead``).
    With one training rank there is nothing to communicate; H2O then aims at iterations of
    about 10 s (its 1e4 us overhead at a 1e-3 share), which is what t_comm = 0.01 gives.
    Clamps as H2O: at most 10 epochs' worth over all ranks, snap down to whole epochs when
    within 20 %, at least ~10 iterations per run, at most ~10 s per iteration on one rank.
    """
    if trainers == 1:
        t_comm, target = 0.01, 1e-3
    t_row_global = max(t_row, 1e-9) / trainers
    tspi = (t_comm / target - t_comm) / t_row_global
    tspi = min(tspi, trainers * rows * 10)
    if tspi > rows and (tspi % rows) / rows < 0.2:
        tspi -= tspi % rows
    tspi = min(tspi, math.floor(epochs * rows / 10))
    if trainers == 1:
        tspi = min(tspi, 10 * math.floor(1.0 / max(t_row, 1e-9)))
    tspi = max(1, tspi)
    return int(min(tspi, 100000 * trainers))


def time_capped_tspi(tspi: int, seconds_left: float, seconds_per_row: float) -> int:
    """At most the global rows that fit in the ``seconds_left`` of max_runtime_secs at the
    measured ``seconds_per_row`` (over all ranks), at least 1: H2O stops training at the time
    limit inside an iteration; mpidl plans iterations that end by it."""
    fit = math.floor(max(0.0, seconds_left) / seconds_per_row)
    return int(max(1, min(tspi, fit)))


class AutoTuner:
    """-2's running measurements and the iteration length they give (rank 0 uses it).

    ``observe`` after every iteration: compute seconds and rows summed over ranks, and the
    overhead: the mean over ranks of each rank's time outside its own compute and scoring
    (allreduces, waiting for the slowest rank, Python), smoothed.  The mean, not rank 0's
    alone: when rank 0 is the slowest it waits for nobody, while the others wait for it.
    ``tspi`` then solves ``autotune_tspi`` with the measured per-row time and
    ``planned_overhead`` (H2O's estimate from the measured allreduce, or that per-iteration
    cost when larger).
    """

    def __init__(self, rows: int, trainers: int, epochs: float, t_comm: float, target: float):
        self.rows, self.trainers, self.epochs = rows, trainers, epochs
        self.t_comm, self.target = t_comm, target
        self.compute_seconds, self.rows_timed, self.overhead = 0.0, 0, 0.0

    def observe(self, compute_seconds: float, rows: int, overhead: float) -> None:
        self.compute_seconds += compute_seconds
        self.rows_timed += rows
        self.overhead = 0.7 * self.overhead + 0.3 * overhead if self.overhead else overhead

    def tspi(self, current: int) -> int:
        """The next iteration's global samples (``current`` until a row has been timed)."""
        if self.rows_timed == 0:
            return current
        return autotune_tspi(self.rows, self.trainers, self.epochs,
                             self.compute_seconds / self.rows_timed,
                             planned_overhead(self.trainers, self.t_comm, self.overhead),
                             self.target)


def calibration_rows(units, n_local: int, seconds: float = 0.2, unit: int = 1) -> int:
    """Rows to time before the first iteration: about ``seconds`` of work at 5 GFLOP/s, and at
    least two ``unit``s (threads x mini-batch size: every thread trains two whole mini-batches,
    as in training; fewer rows would time short batches split over the threads)."""
    weights = sum(units[i] * units[i + 1] for i in range(len(units) - 1))
    rows = max(min(2000, max(32, seconds * 5e9 / (6.0 * weights))), 2 * unit)
    return int(min(n_local, rows))


def fill_limit(share: int, rows: int, epochs: float, processed: int, tspi: int,
               trainers: int) -> int:
    """Most extra rows one rank may train while it waits for slower ranks (train_while_waiting).

    share: rows of this rank's iteration order; rows: training rows R; processed: rows trained
    over all ranks before this iteration; tspi: this iteration's global samples.  At most the
    rank's share again, and the extra rows of all ranks together never carry the run past
    ``epochs`` (so the last iteration overshoots no more than without waiting-time training).
    """
    left = math.floor(epochs * rows) - processed - tspi
    return int(max(0, min(share, left // max(1, trainers))))


def fill_chunk_rows(seconds_per_row: float, unit: int, share: int, limit: int,
                    seconds: float = 0.001) -> int:
    """Rows per kernel call while training waits: about ``seconds`` of work and at most an
    eighth of the rank's ``share`` of the iteration, a multiple of ``unit`` (threads x
    mini-batch size), at least one unit, at most ``limit``.  A rank checks whether the slowest
    rank is done after every call, so this bounds how late it joins the allreduce: the slowest
    rank waits up to one call of the others at each iteration's end (on many ranks nearly a
    whole call), against ~25 us of Python per call (kernel arguments, seeds, the test)."""
    n = min(round(seconds / max(seconds_per_row, 1e-9)), share // 8)
    return int(min(max(1, n // unit) * unit, limit))
