"""mpidl.launch_env reads each MPI family's launcher variables (hand-written environments as
MPICH's hydra, Open MPI's mpirun and srun --mpi=pmi2 / pmix set them)."""

from __future__ import annotations

import pytest

from mpidl.launch_env import env_local_ranks, env_rank, launched_by_mpi

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
