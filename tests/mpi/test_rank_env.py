"""Under the real launcher (MPICH's or Open MPI's mpirun): the rank mpidl reads from the
environment before MPI starts is MPI's rank, and the ranks on this node are the whole job
(tests run on one machine).  CI runs this under both families (docs/mpi_families.md)."""

from __future__ import annotations

import pytest

from mpidl.launch_env import env_local_ranks, env_rank, launched_by_mpi

pytestmark = pytest.mark.timeout(60, method="thread")


@pytest.mark.mpi
def test_environment_agrees_with_mpi(comm, everywhere):
    def body():
        assert launched_by_mpi()
        assert env_rank() == comm.rank
        assert env_local_ranks() == comm.size
    everywhere(body)
