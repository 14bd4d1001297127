"""Grid searches under ``mpirun -n 4`` (launched from the serial test session): groups of
``--ranks-per-model`` 1 and 2 ranks share the points, each point is trained exactly once, and
in reproducible mode every model is the one a sequential search trains (one group of the same
size)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from launcher import mpirun_argv
from mpi_job import command_pids, job_env
from test_grid import FIXED, grid_job, table

from mpidl.checkpoint import read_model

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



LONG = FIXED + """\
epochs = 2000
hidden = [4]
stopping_rounds = 0
overwrite_with_best_model = false
[hyper_parameters]
l2 = [0.0, 1e-5, 1e-4, 1e-3]
"""
POINTS_LONG = 4


def test_signalled_groups_checkpoint_and_the_restart_finishes_the_grid(tmp_path):
    """SIGTERM to every rank of a 2-group search (as srun forwards it): exit 75, the models in
    training written as resumable files; the restarted search trains nothing twice and ends
    with the models of an uninterrupted search."""
    job = grid_job(tmp_path, LONG)
    out = tmp_path / "out"
    out.mkdir()
    cmd = [sys.executable, "-m", "mpidl", "grid", str(job), "-o", str(out), "--threads", "1",
           "--ranks-per-model", "2"]
    proc = subprocess.Popen(mpirun_argv(4) + cmd, cwd=tmp_path, env=job_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not list(out.glob("*.h5")) and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)   # the groups are training their next points
    for pid in command_pids(proc.pid, b"grid"):
        os.kill(pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 75, err
    assert "Traceback" not in err, err
    stopped = {p.name: (p.stat().st_mtime_ns, read_model(str(p)).stop_reason)
               for p in out.glob("*.h5")}
    assert 0 < len(stopped) <= POINTS_LONG
    assert "signal" in [reason for _, reason in stopped.values()]
    r = subprocess.run(mpirun_argv(4) + cmd, capture_output=True, text=True, timeout=500,
                       cwd=tmp_path, env=job_env())
    assert r.returncode == 0, r.stderr
    for name, (mtime, reason) in stopped.items():
        if reason != "signal":   # finished before the signal: not trained again
            assert (out / name).stat().st_mtime_ns == mtime
            assert f"grid: {name[:-3]} " not in r.stdout
    whole = tmp_path / "whole"
    _grid(job, whole, 2, 2)
    for i in range(POINTS_LONG):
        with h5py.File(out / f"g_model_{i}.h5") as fa, h5py.File(whole / f"g_model_{i}.h5") as fb:
            np.testing.assert_array_equal(fa["buf"][:], fb["buf"][:])
