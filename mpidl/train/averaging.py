"""Combining the ranks' models after an iteration (spec sections 6.4, 6.5).

Model averaging: the flat buffer (weights, biases, optimizer state) of every rank that trained
at least one row is summed with ONE ``Allreduce`` and divided by the number of contributors;
an unweighted mean, as H2O.  Unlike H2O (a quirk), the bias ADADELTA state is averaged too:
it lives in the same buffer.

Elastic averaging (EASGD): each rank keeps its own local model across iterations; the
consensus ``x~`` is updated as ``x~ = beta * mean_i(x_i) + (1 - beta) * x~_prev`` (the mean
alone the first time) and is the model that is scored and saved.  Local models are not reset.

``ModelCopies`` holds a rank's copies for one run (the kernels train ``local``; ``center`` is
the elastic-averaging consensus the kernels pull towards) and combines them.
"""

from __future__ import annotations

import numpy as np

from .periodic import gather_local_models, restore_local_model
from .timing import max_wait, wait_slots


def iteration_counts(comm, n_local: int, signal: bool, compute_seconds: float,
                     idle_seconds: float = 0.0, ready: float = 0.0, done: float = 0.0,
                     contributes: bool | None = None) -> tuple[int, int, bool, float, float, float]:
    """One small allreduce after an iteration.

    ``idle_seconds``: this rank's time outside its own compute and rank 0's scoring in the
    *previous* iteration (waiting for slower ranks, allreduces, Python), known only once that
    iteration ended.  ``ready``, ``done``: seconds from the start of this rank's train step
    until its share was trained and until it stopped training (``train/timing.py``).
    ``contributes``: whether this rank brings a model to the average (None: it trained a row).
    Returns (contributing ranks, rows processed on all ranks, whether any rank was signalled,
    compute seconds summed over ranks, idle seconds summed over ranks, the longest any rank
    waited for the slowest).
    """
    brings = n_local > 0 if contributes is None else contributes
    head = [1 if brings else 0, n_local, 1 if signal else 0, compute_seconds, idle_seconds]
    v = np.concatenate([np.array(head, dtype=np.float64),
                        wait_slots(comm.rank, comm.size, ready, done)])
    comm.allreduce_sum(v)
    return int(v[0]), int(v[1]), bool(v[2]), float(v[3]), float(v[4]), max_wait(v[5:])


def average_models(comm, buf: np.ndarray, n_local: int, contributors: int) -> None:
    """In place: ``buf`` becomes the mean of the contributing ranks' buffers (one Allreduce)."""
    if comm.size == 1 or contributors == 0:
        return
    if n_local == 0:
        buf[:] = 0
    comm.allreduce_model(buf)
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
    comm.allreduce_model(scratch)
    scratch /= contributors
    move_consensus(consensus, scratch, beta, first)


def move_consensus(consensus: np.ndarray, mean: np.ndarray, beta: float, first: bool) -> None:
    """In place: EASGD's step ``consensus <- beta * mean + (1 - beta) * consensus`` towards
    ``mean``, the mean of the local models; the first time, or with beta == 1, the mean."""
    if first or beta == 1.0:
        consensus[:] = mean
    else:
        consensus *= (1.0 - beta)
        consensus += beta * mean


class ModelCopies:
    """This rank's model copies for one run of ``model`` (a rank's only state besides its shard).

    Model averaging: ``local`` is the model's own buffer and ``center`` an unused float32[1].
    Elastic averaging: ``local`` is this rank's own model (from a checkpoint that holds one per
    rank, else a copy of the model) and ``center`` the model's buffer, the consensus.
    """

    def __init__(self, model, comm):
        buf, self.comm = model.buf, comm
        self.elastic = bool(model.params.elastic_averaging)
        self.beta = float(model.params.elastic_averaging_moving_rate)
        self.local = buf.copy() if self.elastic else buf
        self.center = buf if self.elastic else np.zeros(1, dtype=buf.dtype)
        self.scratch = np.empty_like(buf) if self.elastic else None
        self.first = not (self.elastic and restore_local_model(model, comm, self.local))

    def combine(self, n_local: int, contributors: int) -> None:
        """The model averaging or elastic averaging of the iteration (a collective)."""
        if self.elastic:
            elastic_average(self.comm, self.local, self.center, n_local, contributors,
                            self.beta, self.first, self.scratch)
            self.first = False
        else:
            average_models(self.comm, self.local, n_local, contributors)

    def finish_average(self) -> None:
        """Blocking averaging leaves no average in flight (``train/overlap.py`` does)."""

    def gather(self) -> np.ndarray | None:
        """Elastic averaging: every rank's local model on rank 0 (float32[nranks, n]) for a
        checkpoint; None otherwise and on the other ranks.  A collective."""
        return gather_local_models(self.comm, self.local) if self.elastic else None

    def contributes(self, n_local: int) -> bool:
        """Whether this rank brings a model to the average: it trained a row."""
        return n_local > 0

    def settle(self) -> None:
        """After rank 0 wrote a checkpoint: nothing to wait for (the copies are private)."""

    def release(self) -> None:
        """Nothing to free: the copies are private memory."""
