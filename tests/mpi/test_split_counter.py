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


@pytest.mark.mpi
def test_a_group_busy_in_its_own_collectives_serves_the_counter(comm, everywhere, shared_dir):
    """The counter lives on world rank 0, which is busy in its group's collectives (a model
    training on a split communicator) and calls nothing on the world.  Another group's
    ``take`` is still served while rank 0 loops (the group's collectives let MPI progress on
    the parent): the taker's flag file appears before rank 0's loop ends.  Without that,
    the take would wait for rank 0's next world call, after the loop."""
    import time

    def body():
        group = comm.split(0 if comm.rank == 0 else 1)
        counter = comm.shared_counter()
        flag = shared_dir / "taken"
        seen_at = None
        if comm.rank == 0:
            for i in range(500):                      # at most ~5 s of group-only work
                group.allreduce_sum(np.zeros(1))
                if flag.exists():
                    seen_at = i
                    break
                time.sleep(0.01)
        elif comm.rank == 1:
            time.sleep(0.2)
            counter.take()
            flag.write_text("taken")
        seen_at = comm.bcast_obj(seen_at)
        counter.free()
        group.free()
        assert seen_at is not None, "the take was served only after rank 0's group loop"
    everywhere(body)
