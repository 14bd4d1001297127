"""``comm.split`` and ``comm.shared_counter`` on the real communicator (the grid's queue).

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_split_counter.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.timeout(120, method="thread")


@pytest.mark.mpi
def test_split_groups_ranks_by_color(comm, everywhere):
    def body():
        group = comm.split(comm.rank % 2)
        members = comm.size // 2 + (comm.rank % 2 == 0) * (comm.size % 2)
        assert group.size == members
        assert group.rank == comm.rank // 2          # ranks kept in world order
        ranks = group.allgather_obj(comm.rank)
        assert ranks == [r for r in range(comm.size) if r % 2 == comm.rank % 2]
        total = group.allreduce_sum(np.array([comm.rank], dtype=np.int64))
        assert int(total[0]) == sum(ranks)
    everywhere(body)


@pytest.mark.mpi
def test_shared_counter_hands_out_each_value_once(comm, everywhere):
    """Every rank takes values until 50: together they took 0..49, each exactly once."""
    def body():
        counter = comm.shared_counter()
        taken = []
        while (value := counter.take()) < 50:
            taken.append(value)
        everyone = sorted(v for part in comm.allgather_obj(taken) for v in part)
        counter.free()
        assert everyone == list(range(50))
    everywhere(body)
