"""averaging_overlap in whole jobs under ``mpirun -n 2 python -m mpidl train`` (launched from
the serial session): SIGTERM to one rank while averages are in flight checkpoints (exit 75) a
model every rank agreed on, and the resumed job finishes."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time

import pytest
from launcher import mpirun_argv
from mpi_job import LONG_JOB, PY, LongJob, job_env

pytestmark = [pytest.mark.timeout(240), pytest.mark.mpi_skip]

# scored about every second: between scorings, many iterations run with an average in flight
OVERLAP_JOB = LONG_JOB.replace("score_interval = 0", "score_interval = 1") + \
    "averaging_overlap = true\n"


def _inspect(model, cwd) -> dict:
    r = subprocess.run([PY, "-m", "mpidl", "inspect", str(model), "--json"], cwd=cwd,
                       env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_sigterm_under_overlap_checkpoints_and_the_resume_finishes(tmp_path):
    model = tmp_path / "m.h5"
    job = LongJob(tmp_path, model, text=OVERLAP_JOB)
    job.ranks()
    time.sleep(2)             # past the first scorings: averages in flight between them
    _, rc, _ = job.signal(signal.SIGTERM)
    assert "Traceback" not in job.err, job.err
    assert rc == 75, f"mpirun exited {rc}\n{job.err}"
    assert job.out.count("signal received: checkpoint written to") == 1, job.out[-2000:]
    d = _inspect(model, tmp_path)
    assert d["stop_reason"] == "signal" and d["nranks"] == 2
    assert d["iterations"] > len(d["scoring_history"])     # unscored iterations overlapped
    target = math.floor(d["epochs"]) + 2
    r = subprocess.run(mpirun_argv(2) + [PY, "-m", "mpidl", "train", str(tmp_path / "job.toml"),
                                         "--threads", "1", "--set", f"checkpoint={model}",
                                         "--set", f"epochs={target}", "-o",
                                         str(tmp_path / "resumed.h5")],
                       cwd=tmp_path, env=job_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    resumed = _inspect(tmp_path / "resumed.h5", tmp_path)
    # the run's last scoring reached the target (the kept model may be an earlier best one)
    assert resumed["stop_reason"] != "signal"
    assert resumed["scoring_history"][-1]["epochs"] >= target
    assert resumed["iterations"] > d["iterations"]
    assert resumed["parameters"]["averaging_overlap"] is True
    assert math.isfinite(resumed["training_metrics"]["logloss"])
