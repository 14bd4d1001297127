"""train_while_waiting (-2 on several training ranks): a rank that finished its share of the
iteration trains more of its own rows until the slowest rank is done, instead of idling at the
model allreduce.  How many rows: ``schedule.fill_limit``; rows per kernel call:
``schedule.fill_chunk_rows``.
"""

from __future__ import annotations

import time

from .rows import RowPlan
from .schedule import fill_chunk_rows


def train_while_waiting(comm, plan: RowPlan, rng, limit: int, share_rows: int,
                        share_seconds: float, unit: int, train) -> tuple[int, float]:
    """Start a barrier without waiting, and until every rank has reached it train more rows of
    this rank's shard (a fresh random pass of ``plan``, at most ``limit`` rows) in kernel calls
    of ~1 ms, checking the barrier between calls.  A collective: every rank calls it, also one
    that trains nothing.

    share_rows, share_seconds: the rows and kernel seconds of this rank's share of the
    iteration (for the call size); unit: rows a call's size is a multiple of (threads x
    mini-batch size); ``train(order, part)`` runs the kernel over ``order`` (int64 row
    indices) with the streams of call ``part`` (1, 2, ...) and returns the rows trained.
    Returns (extra rows trained, kernel seconds).
    """
    pending = comm.ibarrier()
    if limit == 0 or share_rows == 0 or pending.done():
        pending.wait()
        return 0, 0.0
    order = plan.sample(limit, rng)
    chunk = fill_chunk_rows(share_seconds / share_rows, unit, share_rows, order.shape[0])
    pos = rows = part = 0
    seconds = 0.0
    while pos < order.shape[0] and not pending.done():
        part += 1
        t0 = time.perf_counter()
        rows += train(order[pos:pos + chunk], part)
        seconds += time.perf_counter() - t0
        pos += chunk
    pending.wait()
    return rows, seconds
