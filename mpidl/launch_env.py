"""What the MPI launcher tells a process through its environment, read without any MPI call.

The MPI families name it differently (docs/mpi_families.md):

========================  =====================  =============================  ==============
launcher                  rank                   ranks on this node             world size
========================  =====================  =============================  ==============
MPICH hydra ``mpirun``    ``PMI_RANK``           ``MPI_LOCALNRANKS``            ``PMI_SIZE``
Open MPI ``mpirun``       ``OMPI_COMM_WORLD_     ``OMPI_COMM_WORLD_LOCAL_SIZE`` ``OMPI_COMM_
                          RANK``, ``PMIX_RANK``                                 WORLD_SIZE``
``srun --mpi=pmi2``       ``PMI_RANK``           ``SLURM_NTASKS_PER_NODE``      ``PMI_SIZE``
``srun --mpi=pmix``       ``PMIX_RANK``          ``SLURM_NTASKS_PER_NODE``      (none)
========================  =====================  =============================  ==============
"""

from __future__ import annotations

import os

RANK_VARS = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")
LOCAL_RANKS_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE")
_LAUNCHER_VARS = RANK_VARS + ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                              "HYDRA_CONTROL_FD", "PMI_FD")


def env_rank() -> int:
    """This process's rank in the job (0 when no launcher variable says otherwise)."""
    for v in RANK_VARS:
        try:
            return int(os.environ[v])
        except (KeyError, ValueError):
            continue
    return 0


def env_local_ranks() -> int:
    """Ranks sharing this node (>= 1; SLURM's ``2(x3)`` form gives 2)."""
    for v in LOCAL_RANKS_VARS:
        try:
            return max(1, int(os.environ[v].split("(")[0].split(",")[0]))
        except (KeyError, ValueError):
            continue
    return 1


def launched_by_mpi() -> bool:
    """True when a launcher started this process (``MPIDL_MPI=0/1`` overrides the guess)."""
    forced = os.environ.get("MPIDL_MPI")
    if forced is not None:
        return forced not in ("0", "", "false", "no")
    return any(v in os.environ for v in _LAUNCHER_VARS)
