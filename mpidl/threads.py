"""Threads per rank, fixed before numba is imported (numba reads NUMBA_NUM_THREADS once).

Priority: ``--threads``, then ``NUMBA_NUM_THREADS``, then ``SLURM_CPUS_PER_TASK``, then the
cores this rank may run on (``cores_per_rank``: its own binding, or the node's cores divided
by the ranks sharing the node).  BLAS pools are capped
at one thread so they never compete with the Hogwild threads.
"""

from __future__ import annotations

import os

from .errors import UserError
from .launch_env import env_local_ranks


def available_cores() -> int:
    """Cores in this process's CPU affinity mask."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def cores_per_rank() -> int:
    """This rank's share of the node's cores.

    A launcher that binds (Open MPI's ``mpirun`` by default, ``srun`` with task affinity, hydra's
    ``-bind-to``) leaves each rank an affinity mask smaller than its parent's: that mask is the
    rank's own share.  Unbound ranks (MPICH's default) all see the same mask: it is divided by
    the ranks on this node.
    """
    mine = available_cores()
    try:
        bound = os.sched_getaffinity(0) < os.sched_getaffinity(os.getppid())
    except (AttributeError, OSError):  # pragma: no cover - not Linux, or the parent is gone
        bound = False
    return mine if bound else max(1, mine // env_local_ranks())


def _thread_count(value, name: str) -> int:
    """``value`` as a thread count (a whole number >= 1); UserError naming ``name`` if not."""
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if n < 1:
        raise UserError(f"{name}={value!r}: expected a whole number of threads >= 1")
    return n


def configure_threads(requested: int | None) -> tuple[int, str]:
    """Decide this rank's thread count and export it; returns (threads, warning or '').

    A requested count or a set variable that is not a whole number >= 1 is a UserError."""
    numba_max = (_thread_count(os.environ["NUMBA_NUM_THREADS"], "NUMBA_NUM_THREADS")
                 if os.environ.get("NUMBA_NUM_THREADS") else None)
    if requested is not None:
        n = _thread_count(requested, "--threads")
    elif numba_max:
        n = numba_max
    elif os.environ.get("SLURM_CPUS_PER_TASK"):
        n = _thread_count(os.environ["SLURM_CPUS_PER_TASK"], "SLURM_CPUS_PER_TASK")
    else:
        n = cores_per_rank()
    os.environ["NUMBA_NUM_THREADS"] = str(max(n, numba_max or n))
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, "1")
    cores = available_cores()
    warn = ""
    if cores < n:
        warn = (f"{n} threads requested but this rank may use only {cores} core(s) "
                "(mpirun binds ranks: try --bind-to none or --map-by slot:pe=N)")
    return n, warn
