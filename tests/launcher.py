"""The MPI launcher the tests start jobs with: one place that knows how to call ``mpirun``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

MPIRUN = str(Path(sys.executable).parent / "mpirun")


def mpirun_argv(n: int) -> list[str]:
    """``[mpirun, -n, N]``: the launcher beside the interpreter (the ``mpich`` wheel's)."""
    return [MPIRUN, "-n", str(n)]


def have_mpirun() -> bool:
    """Whether the launcher exists and can be run."""
    return os.access(MPIRUN, os.X_OK)


def mpmd_argv(commands: list[list[str]]) -> list[str]:
    """One MPI job whose rank i runs ``commands[i]`` (MPMD: ``mpirun -n 1 A : -n 1 B``)."""
    out = [MPIRUN]
    for i, cmd in enumerate(commands):
        out += ([":"] if i else []) + ["-n", "1", *cmd]
    return out
