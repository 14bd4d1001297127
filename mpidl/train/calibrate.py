"""Start-up measurements of a run (collectives: the slowest rank's figure counts, so every rank
plans alike): the model allreduce's seconds and the kernel's seconds per training row.

They size the first iteration (``train/schedule.py``: -2's plan, the cap by max_runtime_secs)
and choose the thread count when ``--threads`` is not given (``train/threadcount.py``).
"""

from __future__ import annotations

import time

import numpy as np

from .schedule import calibration_rows


def allreduce_seconds(comm, buf: np.ndarray) -> float:
    """Seconds of one allreduce of a buffer like ``buf`` (best of 3, slowest rank); 0 on one
    rank."""
    if comm.size == 1:
        return 0.0
    scratch = np.zeros_like(buf)
    return min(comm.timed_allreduce(scratch) for _ in range(3))


def seconds_per_row(model, n_local: int, trains: bool, comm, threads: int, seconds: float,
                    train) -> float:
    """Measured seconds per training row with ``threads`` Hogwild threads (slowest rank).

    Trains about ``seconds`` of this rank's ``n_local`` rows (``schedule.calibration_rows``)
    on a throw-away copy of ``model``, after one mini-batch per thread (one row online) that
    only warms the kernel up, so the model itself is untouched; ``train(buf, center, order)``
    runs the kernel.  A collective: every rank calls it; a rank that does not train
    (``trains`` false) reports 0.
    """
    from numba import set_num_threads
    unit = threads * max(1, int(model.params.mini_batch_size))
    k = calibration_rows(model.layout.units, n_local, seconds, unit) if trains else 0
    per_row = 0.0
    if k > 0:
        set_num_threads(threads)
        scratch = model.buf.copy()
        center = (model.buf.copy() if model.params.elastic_averaging
                  else np.zeros(1, model.buf.dtype))
        warm = 1 if unit == threads else min(unit, k)
        train(scratch, center, np.zeros(warm, np.int64))
        t0 = time.perf_counter()
        train(scratch, center, np.arange(k, dtype=np.int64))
        per_row = (time.perf_counter() - t0) / k
    return float(comm.allreduce_max(np.array([per_row]))[0])
