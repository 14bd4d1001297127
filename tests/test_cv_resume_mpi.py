"""A cross-validation under ``mpirun -n 2`` stopped by SIGTERM (launched from the serial test
session) in a fold model or in the main model: exit 75, the model in training written as a
resumable file; the same command started again skips the finished fold models, continues the
interrupted one and ends with the models and cross-validation metrics of an uninterrupted
run (reproducible mode); the same with the fold models on two groups of one rank
(``--ranks-per-model 1``), where several fold models may be stopped at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from launcher import mpirun_argv
from mpi_job import command_pids, job_env
from test_grid import FIXED

from mpidl.checkpoint import read_model

pytestmark = [pytest.mark.timeout(600), pytest.mark.mpi_skip]

JOB = FIXED + """\
epochs = 1000
hidden = [4]
stopping_rounds = 0
overwrite_with_best_model = false
nfolds = 3
fold_assignment = "Modulo"
"""


def _command(job: Path, out: Path, *extra: str) -> list[str]:
    return mpirun_argv(2) + [sys.executable, "-m", "mpidl", "train", str(job), "-o",
                             str(out / "m.h5"), "--threads", "1", *extra]


def _buf(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f["buf"][:]


# (fold models kept, the file whose appearance starts the signal, the model it stops, the
# fold models finished before it)
CASES = [(True, "m_cv_1.h5", "m_cv_2.h5", 1), (False, ".m_cv_1.h5", ".m_cv_2.h5", 1),
         (True, "m_cv_3.h5", "m.h5", 3)]


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The uninterrupted run's folder (fold models kept), shared by the cases below: with
    ``keep_cross_validation_models = false`` the same run trains the same models and only
    leaves the fold models' files out."""
    folder = tmp_path_factory.mktemp("whole")
    job = folder / "cv.toml"
    job.write_text(JOB + "keep_cross_validation_models = true\n")
    r = subprocess.run(_command(job, folder), capture_output=True, text=True, timeout=500,
                       cwd=folder, env=job_env())
    assert r.returncode == 0, r.stderr
    job.unlink()
    return folder


@pytest.mark.parametrize("keep, after, stopped, finished", CASES)
def test_signalled_cv_continues_to_the_uninterrupted_metrics(tmp_path, whole, keep, after,
                                                             stopped, finished):
    job = tmp_path / "cv.toml"
    job.write_text(JOB + f"keep_cross_validation_models = {str(keep).lower()}\n")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(_command(job, out), cwd=tmp_path, env=job_env(),   # stdout unread:
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # not a pipe
    while not (out / after).exists() and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)   # the next model is loading or training
    for pid in command_pids(proc.pid, b"train"):
        os.kill(pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 75, err
    assert "Traceback" not in err, err
    assert read_model(str(out / after)).stop_reason != "signal"
    assert read_model(str(out / stopped)).stop_reason == "signal"
    done_at = (out / after).stat().st_mtime_ns
    r = subprocess.run(_command(job, out), capture_output=True, text=True, timeout=500,
                       cwd=tmp_path, env=job_env())
    assert r.returncode == 0, r.stderr
    assert f"continuing the cross-validation stopped in {out / 'm.h5'}: {finished} fold" in r.stdout
    if keep:
        assert (out / after).stat().st_mtime_ns == done_at     # not trained again
        for k in (1, 2, 3):
            np.testing.assert_array_equal(_buf(out / f"m_cv_{k}.h5"), _buf(whole / f"m_cv_{k}.h5"))
    kept = [p.name for p in whole.iterdir() if keep or not p.name.startswith("m_cv_")]
    assert sorted(p.name for p in out.iterdir()) == sorted(kept)
    resumed, uninterrupted = read_model(str(out / "m.h5")), read_model(str(whole / "m.h5"))
    assert resumed.cross_validation_metrics == uninterrupted.cross_validation_metrics
    assert (resumed.cross_validation_metrics_summary
            == uninterrupted.cross_validation_metrics_summary)
    np.testing.assert_array_equal(_buf(out / "m.h5"), _buf(whole / "m.h5"))


def test_signalled_cv_on_groups_continues_to_the_uninterrupted_metrics(tmp_path):
    job = tmp_path / "cv.toml"
    job.write_text(JOB + "keep_cross_validation_models = true\n")
    whole, out = tmp_path / "whole", tmp_path / "out"
    whole.mkdir()
    out.mkdir()
    groups = ("--ranks-per-model", "1")
    r = subprocess.run(_command(job, whole, *groups), capture_output=True, text=True,
                       timeout=500, cwd=tmp_path, env=job_env())
    assert r.returncode == 0, r.stderr
    proc = subprocess.Popen(_command(job, out, *groups), cwd=tmp_path, env=job_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not list(out.glob("m_cv_*.h5")) and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)   # the other group is training its fold model, this one the next
    for pid in command_pids(proc.pid, b"train"):
        os.kill(pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 75, err
    assert "Traceback" not in err, err
    stopped = [p.name for p in out.glob("*.h5") if read_model(str(p)).stop_reason == "signal"]
    assert stopped, sorted(p.name for p in out.iterdir())
    r = subprocess.run(_command(job, out, *groups), capture_output=True, text=True,
                       timeout=500, cwd=tmp_path, env=job_env())
    assert r.returncode == 0, r.stderr
    assert f"continuing the cross-validation stopped in {out / 'm.h5'}" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in whole.iterdir())
    for name in [f"m_cv_{k}.h5" for k in (1, 2, 3)] + ["m.h5"]:
        np.testing.assert_array_equal(_buf(out / name), _buf(whole / name))
    resumed, uninterrupted = read_model(str(out / "m.h5")), read_model(str(whole / "m.h5"))
    assert resumed.cross_validation_metrics == uninterrupted.cross_validation_metrics
    assert (resumed.cross_validation_metrics_summary
            == uninterrupted.cross_validation_metrics_summary)
