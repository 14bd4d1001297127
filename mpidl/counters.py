"""Shared counters that hand out grid points: ``Counter`` on one rank, ``WindowCounter`` in
an MPI window on rank 0 of a communicator (made by ``comm.py``, which passes the mpi4py
module in)."""

from __future__ import annotations

import numpy as np


class Counter:
    """A shared counter on one rank: ``take()`` returns its value and adds one."""

    def __init__(self):
        self._next = 0

    def take(self) -> int:
        """The counter's value before this call added one (not a collective)."""
        self._next += 1
        return self._next - 1

    def free(self) -> None:
        """Release the counter (a collective of the communicator that made it)."""


class WindowCounter(Counter):
    """A ``Counter`` in an MPI window on rank 0: ``take`` is one atomic MPI_Fetch_and_op,
    flushed, inside a shared passive-target epoch every rank opens once (``Lock_all``) and
    closes in ``free``.  Rank 0 takes no part.  A lock per take waited, under MPICH, for rank
    0's next MPI call (the lock request needs the target's progress): a whole model when rank 0
    trains alone on its group, up to seconds per grid point; the operation itself within the
    open epoch does not (MPICH and Open MPI on one node).  On other transports a request may
    still need rank 0's progress: ``comm.MPIComm`` lets its split communicators' collectives
    poke their parent.  ``MPI``: the mpi4py module, from ``comm.py`` (this module imports no
    MPI itself)."""

    def __init__(self, MPI, comm):
        self._MPI = MPI
        self._win = MPI.Win.Allocate(8 if comm.Get_rank() == 0 else 0, 8, comm=comm)
        if comm.Get_rank() == 0:
            self._win.Lock(0)
            np.frombuffer(self._win.tomemory(), dtype=np.int64)[:] = 0
            self._win.Unlock(0)
        comm.Barrier()
        self._win.Lock_all()

    def take(self) -> int:
        one, old = np.ones(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
        self._win.Fetch_and_op(one, old, 0, 0, self._MPI.SUM)
        self._win.Flush(0)
        return int(old[0])

    def free(self) -> None:
        self._win.Unlock_all()
        self._win.Free()
