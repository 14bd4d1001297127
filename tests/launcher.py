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
