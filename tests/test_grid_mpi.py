"""Grid searches under ``mpirun -n 4`` (launched from the serial test session): groups of
``--ranks-per-model`` 1 and 2 ranks share the points, each point is trained exactly once, and
in reproducible mode every model is the one a sequential search trains (one group of the same
size)."""

from __future__ import annotations

import re
import subprocess
import sys

import h5py
import numpy as np
import pytest
from launcher import mpirun_argv
from mpi_job import job_env
from test_grid import FIXED, grid_job, table

pytestmark = [pytest.mark.timeout(600), pytest.mark.mpi_skip]

JOB = FIXED + """\
epochs = 2
hidden = [4]
[hyper_parameters]
l2 = [0.0, 1e-4, 1e-3]
rate = [0.005, 0.01]
"""
POINTS = 6


def _grid(job, out, ranks: int, per_model: int) -> subprocess.CompletedProcess:
    out.mkdir()
    cmd = [sys.executable, "-m", "mpidl", "grid", str(job), "-o", str(out), "--threads", "1",
           "--ranks-per-model", str(per_model)]
    r = subprocess.run((mpirun_argv(ranks) if ranks > 1 else []) + cmd, capture_output=True,
                       text=True, timeout=500, cwd=job.parent, env=job_env())
    assert r.returncode == 0, r.stderr
    return r


def _trained_once(r: subprocess.CompletedProcess, out) -> None:
    reported = re.findall(r"^grid: g_model_(\d+) ", r.stdout, flags=re.M)
    assert sorted(map(int, reported)) == list(range(POINTS))
    assert sorted(p.name for p in out.glob("*.h5")) == sorted(f"g_model_{i}.h5" for i in range(POINTS))
    assert len((out / "grid.csv").read_text().splitlines()) == POINTS + 1


def _same_models(a, b) -> None:
    for i in range(POINTS):
        with h5py.File(a / f"g_model_{i}.h5") as fa, h5py.File(b / f"g_model_{i}.h5") as fb:
            np.testing.assert_array_equal(fa["buf"][:], fb["buf"][:])


@pytest.mark.parametrize("per_model, sequential_ranks", [(1, 1), (2, 2)])
def test_groups_share_the_points_and_match_a_sequential_search(tmp_path, per_model,
                                                               sequential_ranks):
    job = grid_job(tmp_path, JOB)
    parallel = tmp_path / "parallel"
    r = _grid(job, parallel, 4, per_model)
    _trained_once(r, parallel)
    sequential = tmp_path / "sequential"
    _grid(job, sequential, sequential_ranks, sequential_ranks)
    _same_models(parallel, sequential)
    drop = lambda rows: [{k: v for k, v in row.items() if k != "training_seconds"}  # noqa: E731
                         for row in rows]
    assert drop(table(parallel)) == drop(table(sequential))
