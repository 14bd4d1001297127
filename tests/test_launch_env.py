"""mpidl.launch_env reads each MPI family's launcher variables (hand-written environments as
MPICH's hydra, Open MPI's mpirun and srun --mpi=pmi2 / pmix set them); threads.cores_per_rank
takes a launcher's binding (Open MPI binds by default, MPICH does not) as the rank's share."""

from __future__ import annotations

import os

import pytest

from mpidl.launch_env import env_local_ranks, env_rank, launched_by_mpi
from mpidl.threads import cores_per_rank

LAUNCHERS = {
    # launcher: (its variables, rank, ranks on this node)
    "hydra": ({"PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALNRANKS": "4",
               "HYDRA_CONTROL_FD": "9"}, 3, 4),
    "openmpi": ({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "3", "PMIX_RANK": "2",
                 "OMPI_COMM_WORLD_LOCAL_SIZE": "3"}, 2, 3),
    "srun-pmi2": ({"PMI_RANK": "5", "PMI_SIZE": "8", "PMI_FD": "7",
                   "SLURM_NTASKS_PER_NODE": "4"}, 5, 4),
    "srun-pmix": ({"PMIX_RANK": "1", "SLURM_NTASKS_PER_NODE": "2(x3)"}, 1, 2),
}
ALL_VARS = {v for env, _, _ in LAUNCHERS.values() for v in env} | {"MPIDL_MPI"}


@pytest.fixture
def clean(monkeypatch):
    for v in ALL_VARS:
        monkeypatch.delenv(v, raising=False)
    return monkeypatch


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_each_launchers_variables(clean, launcher):
    env, rank, local = LAUNCHERS[launcher]
    for k, v in env.items():
        clean.setenv(k, v)
    assert launched_by_mpi()
    assert env_rank() == rank
    assert env_local_ranks() == local


def test_no_launcher_is_one_serial_rank(clean):
    assert not launched_by_mpi()
    assert (env_rank(), env_local_ranks()) == (0, 1)
    clean.setenv("MPIDL_MPI", "1")
    assert launched_by_mpi()


# ------------------------------------------------------------------ cores per rank
@pytest.mark.parametrize("mine,parent,local,want", [
    (range(4), range(16), 4, 4),    # bound by the launcher to 4 of the node's 16: all 4 its own
    (range(16), range(16), 4, 4),   # unbound (MPICH's default): 16 shared by 4 ranks
    (range(2), range(2), 3, 1),     # more ranks than cores: at least one thread
    (range(1), range(2), 2, 1),     # Open MPI's default for 2 ranks: one core each
])
def test_cores_per_rank_takes_a_launchers_binding_as_the_ranks_share(clean, mine, parent, local,
                                                                      want):
    own = os.getpid()
    clean.setattr(os, "sched_getaffinity",
                  lambda pid: set(mine) if pid in (0, own) else set(parent))
    clean.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", str(local))
    assert cores_per_rank() == want
