"""``comm.shared_counter`` is served while rank 0, which holds it, makes no MPI call at all
(a group of one rank inside a long kernel call: its own collectives are not reached).

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_counter_progress.py``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.timeout(120, method="thread")


@pytest.mark.mpi
def test_a_take_needs_no_mpi_call_of_rank_0(comm, everywhere, shared_dir):
    """Rank 1 takes a value and then writes a flag file; rank 0 waits for the file calling no
    MPI function (up to ~10 s).  With a lock per take (MPICH: the lock request waits for the
    target's next MPI call) the file appeared only after rank 0 gave up."""
    def body():
        counter = comm.shared_counter()
        flag = shared_dir / "taken"
        seen = None
        if comm.rank == 0:
            for _ in range(1000):
                if flag.exists():
                    seen = True
                    break
                time.sleep(0.01)
        elif comm.rank == 1:
            value = counter.take()
            flag.write_text(str(value))
        seen = comm.bcast_obj(seen)
        counter.free()
        assert seen, "rank 1's take was served only after rank 0's MPI-free loop"
        assert comm.rank != 1 or flag.read_text() == "0"
    everywhere(body)
