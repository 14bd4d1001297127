"""Combining the ranks' models after an iteration (spec sections 6.4, 6.5).

Model averaging: the flat buffer (weights, biases, optimizer state) of every rank that trained
at least one row is summed with ONE ``Allreduce`` and divided by the number of contributors;
an unweighted mean, as H2O.  Unlike H2O (a quirk), the bias ADADELTA state is averaged too:
it lives in the same buffer.

Elastic averaging (EASGD): each rank keeps its own local model across iterations; the
consensus ``x~`` is updated as ``x~ = beta * mean_i(x_i) + (1 - beta) * x~_prev`` (the mean
alone the first time) and is the model that is scored and saved.  Local models are not reset.
"""

from __future__ import annotations

import numpy as np


def iteration_counts(comm, n_local: int, signal: bool, compute_seconds: float,
                     idle_seconds: float = 0.0) -> tuple[int, int, bool, float, float]:
    """One small allreduce after an iteration.

    ``idle_seconds``: this rank's time outside its own compute and rank 0's scoring in the
    *previous* iteration (waiting for slower ranks, allreduces, Python), known only once that
    iteration ended.  Returns (contributing ranks, rows processed on all ranks, whether any
    rank was signalled, compute seconds summed over ranks, idle seconds summed over ranks).
    """
    v = np.array([1 if n_local > 0 else 0, n_local, 1 if signal else 0, compute_seconds,
                  idle_seconds], dtype=np.float64)
    comm.allreduce_sum(v)
    return int(v[0]), int(v[1]), bool(v[2]), float(v[3]), float(v[4])


def average_models(comm, buf: np.ndarray, n_local: int, contributors: int) -> None:
    """In place: ``buf`` becomes the mean of the contributing ranks' buffers (one Allreduce)."""
    if comm.size == 1 or contributors == 0:
        return
    if n_local == 0:
        buf[:] = 0
    comm.allreduce_sum(buf)
    buf /= contributors


def elastic_average(comm, local: np.ndarray, consensus: np.ndarray, n_local: int,
                    contributors: int, beta: float, first: bool, scratch: np.ndarray) -> None:
    """In place: ``consensus`` <- beta * mean(local_i) + (1 - beta) * consensus (spec 6.5).

    ``scratch``: a buffer like ``local`` (reused between iterations to avoid allocation).
    The first time, or with beta == 1, the consensus is the plain mean.
    """
    if contributors == 0:
        return
    if n_local > 0:
        scratch[:] = local
    else:
        scratch[:] = 0
    comm.allreduce_sum(scratch)
    scratch /= contributors
    if first or beta == 1.0:
        consensus[:] = scratch
    else:
        consensus *= (1.0 - beta)
        consensus += beta * scratch
