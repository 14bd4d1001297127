"""slurm/train.sbatch after a requeue resumes from the newest resumable file (no SLURM needed:
``srun`` is a stand-in that records its arguments)."""

import os
import subprocess
from pathlib import Path

import pytest

SBATCH = Path(__file__).resolve().parents[1] / "slurm" / "train.sbatch"


def _run(tmp_path, restart_count: int, *extra: str) -> str:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    srun = bindir / "srun"
    srun.write_text('#!/bin/bash\necho "$@" > "$SRUN_ARGS"\n')
    srun.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "SLURM_JOB_ID": "7",
           "SLURM_RESTART_COUNT": str(restart_count), "SRUN_ARGS": str(tmp_path / "args")}
    proc = subprocess.run(["bash", str(SBATCH), "job.toml", "-o", "m.h5", *extra], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return (tmp_path / "args").read_text()


def _files(tmp_path, ages: dict[str, int]) -> None:
    """Create files whose modification times are ``age`` seconds in the past."""
    for name, age in ages.items():
        (tmp_path / name).write_text(name)
        t = 1_700_000_000 - age
        os.utime(tmp_path / name, (t, t))


@pytest.mark.parametrize("ages, expect", [
    ({"m.h5": 300, "m.ckpt-000002.h5": 200, "m.ckpt-000003.h5": 100}, "m.ckpt-000003.h5"),
    ({"m.h5": 50, "m.ckpt-000002.h5": 200, "m.ckpt-000003.h5": 100}, "m.h5"),
    ({"m.ckpt-000004.h5": 10}, "m.ckpt-000004.h5"),
])
def test_requeued_run_resumes_from_the_newest(tmp_path, ages, expect):
    _files(tmp_path, ages)
    assert f"--set checkpoint={expect} " in _run(tmp_path, 1)


def test_first_run_and_nothing_to_resume_start_fresh(tmp_path):
    assert "checkpoint=" not in _run(tmp_path, 1)
    _files(tmp_path, {"m.h5": 10})
    assert "checkpoint=" not in _run(tmp_path, 0)


@pytest.mark.parametrize("in_file, extra", [("nfolds = 3\n", ()), ("", ("--set", "nfolds=3"))],
                         ids=["nfolds-in-the-job", "nfolds-from-set"])
def test_requeued_cross_validation_continues_without_a_checkpoint(tmp_path, in_file, extra):
    """A cross-validation continues from its own files (a checkpoint with nfolds is refused),
    so a requeue passes none; the same job without nfolds resumes from the checkpoint."""
    data = Path(__file__).resolve().parents[1] / "data" / "prostate.csv"
    (tmp_path / "job.toml").write_text(f'training_frame = "{data}"\n'
                                       f'response_column = "CAPSULE"\n{in_file}')
    _files(tmp_path, {"m.h5": 10})
    args = _run(tmp_path, 1, *extra)
    assert "checkpoint=" not in args
    assert "--set checkpoint=m.h5 " in _run(tmp_path, 1, "--set", "nfolds=0")
