"""Groups of ranks taking work from one shared queue: the grid's points and cross-validation's
fold models (``--ranks-per-model``).

The world's ranks split into groups of K consecutive ranks (``comm.split``); each group's
first rank asks for the next index (the caller's ``next_index``, which takes it from a counter
held by world rank 0, ``comm.shared_counter``) and hands it to its group, which does the work
on its own communicator, so every index is taken exactly once whatever the number of groups.
A group that is done waits for the others without blocking its signal handling.
"""

from __future__ import annotations

import time
from typing import Callable

from .errors import CheckpointedOnSignal
from .train.signals import SignalFlag

SIGNALLED = -2   # what a group's first rank hands its group instead of an index
STOP = -1        # no more work for this group


def serve_queue(comm, ranks_per_group: int, next_index: Callable, work: Callable,
                label: str) -> None:
    """Collective over ``comm`` (its size a multiple of ``ranks_per_group``).  On each group's
    first rank ``next_index(counter, signalled)`` gives an index, STOP or SIGNALLED
    (``counter.take()`` returns 0, 1, 2, ... over all groups together); every rank of the group
    then calls ``work(index, group)``.  After STOP it waits for every group.  A signal makes
    every rank raise CheckpointedOnSignal(``label``)."""
    group = comm.split(comm.rank // ranks_per_group)
    counter = comm.shared_counter()
    with SignalFlag() as sig:
        while True:
            index = group.bcast_obj(next_index(counter, sig.raised) if group.is_root else None)
            if index == SIGNALLED:
                raise CheckpointedOnSignal(label)
            if index == STOP:
                break
            work(index, group)
        _wait_for_all(comm, sig, label)
    counter.free()


def _wait_for_all(comm, sig: SignalFlag, label: str) -> None:
    """Wait until every group is done (a non-blocking barrier, polled): a rank done early
    still hears a signal, and leaves like the group that is checkpointing then."""
    everyone = comm.ibarrier()
    while not everyone.done():
        if sig.raised:
            raise CheckpointedOnSignal(label)
        time.sleep(0.02)
