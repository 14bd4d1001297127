"""Whole jobs under ``mpirun -n 2 python -m mpidl ...`` (launched from the serial test session).

Exit codes, error reporting, reproducibility, a one-rank fault, a one-rank SIGTERM with a resume
from the checkpoint, and the signals a batch system sends to the launcher itself.  The launcher
is the one of the MPI family mpi4py was built against (tests/launcher.py): a missing one fails
these tests rather than skipping them.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from launcher import forwards_sigterm, mpirun_argv
from mpi_job import BASE_JOB, LONG_JOB, PROSTATE, PY, LongJob, alive, job_env, write_job

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.mpi_skip,  # they launch their own mpirun: not from inside an MPI run
]


def _mpirun(args, cwd, n=2, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(mpirun_argv(n) + list(args), cwd=cwd, env=job_env(),
                          capture_output=True, text=True, timeout=timeout, **kw)


def _inspect(model, cwd) -> dict:
    r = subprocess.run([PY, "-m", "mpidl", "inspect", str(model), "--json"], cwd=cwd, env=job_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _job(tmp_path, text, name="job.toml") -> Path:
    return write_job(tmp_path, text, name)


def _no_traceback(r):
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


# ---------------------------------------------------------------------- success
def test_train_two_ranks_writes_a_model(tmp_path):
    job = _job(tmp_path, BASE_JOB + "epochs = 3\n")
    model = tmp_path / "m.h5"
    r = _mpirun([PY, "-m", "mpidl", "train", str(job), "--threads", "1", "-o", str(model)],
                tmp_path)
    assert r.returncode == 0, r.stderr
    _no_traceback(r)
    assert model.exists()
    assert r.stdout.count("model written to") == 1  # rank 0 alone prints
    d = _inspect(model, tmp_path)
    assert d["nranks"] == 2
    assert d["training_rows"] == 380
    assert d["epochs"] >= 3
    tm = d["training_metrics"]
    for key in ("MSE", "RMSE", "logloss", "classification_error", "AUC"):
        assert math.isfinite(tm[key]), (key, tm)
    assert d["scoring_history"]


def test_reproducible_two_ranks_is_bit_identical(tmp_path):
    job = _job(tmp_path, BASE_JOB + "epochs = 2\nreproducible = true\nseed = 1234\n")
    bufs = []
    for i in range(2):
        model = tmp_path / f"m{i}.h5"
        r = _mpirun([PY, "-m", "mpidl", "train", str(job), "--threads", "1", "-o", str(model)],
                    tmp_path)
        assert r.returncode == 0, r.stderr
        with h5py.File(model, "r") as f:
            bufs.append(f["buf"][()])
    assert bufs[0].dtype == bufs[1].dtype and bufs[0].shape == bufs[1].shape
    assert bufs[0].tobytes() == bufs[1].tobytes()
    assert np.all(np.isfinite(bufs[0]))


# ---------------------------------------------------------------------- bad input
BAD_INPUTS = {
    "unknown_parameter": (BASE_JOB + "epochs = 1\nbogus_parameter = 3\n",
                          "unknown parameter 'bogus_parameter'"),
    "missing_response": (BASE_JOB.replace('"CAPSULE"', '"NO_SUCH_COLUMN"') + "epochs = 1\n",
                         "no response column 'NO_SUCH_COLUMN'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(tmp_path, case):
    text, message = BAD_INPUTS[case]
    job = _job(tmp_path, text)
    t0 = time.monotonic()
    r = _mpirun([PY, "-m", "mpidl", "train", str(job), "--threads", "1",
                 "-o", str(tmp_path / "m.h5")], tmp_path, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode == 2, r.stderr
    _no_traceback(r)
    assert elapsed < 20, elapsed
    hits = [ln for ln in r.stderr.splitlines() if message in ln]
    assert len(hits) == 1, r.stderr
    # the contract: one line on stderr, printed once (by rank 0, after all ranks agreed);
    # no per-rank report and no MPI_Abort noise for a user error
    assert hits[0].startswith("mpidl: error:"), r.stderr
    assert [ln for ln in r.stderr.splitlines() if ln.strip()] == hits, r.stderr
    assert not (tmp_path / "m.h5").exists()


# ---------------------------------------------------------------------- one-rank fault
FAULT_DRIVER = """\
import os, signal, sys, time

from mpidl.launch_env import env_rank

if env_rank() == 1:
    def in_training(frame):
        while frame is not None:
            c = frame.f_code
            if c.co_name == "run" and c.co_filename.endswith(os.path.join("train", "loop.py")):
                return True
            frame = frame.f_back
        return False

    def alarm(signum, frame):
        if in_training(frame):
            with open(sys.argv[1], "w") as fh:
                fh.write(repr(time.time()))
            raise RuntimeError("deliberate fault on rank 1")
        signal.setitimer(signal.ITIMER_REAL, 0.05)

    signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.5)

from mpidl.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_exception_on_one_rank_ends_the_job(tmp_path):
    """Rank 1 raises RuntimeError inside the training loop (rank 0 carries on into the next
    collective): cli.main's handler must abort the whole job, promptly and non-zero."""
    job = _job(tmp_path, LONG_JOB)
    driver = tmp_path / "driver.py"
    driver.write_text(FAULT_DRIVER)
    stamp = tmp_path / "fault_time"
    r = _mpirun([PY, str(driver), str(stamp), "train", str(job), "--threads", "1",
                 "-o", str(tmp_path / "m.h5")], tmp_path, timeout=90)
    end = time.time()
    assert stamp.exists(), f"the fault never fired\n{r.stderr}"
    assert r.returncode == 1  # MPI_Abort(1): both families' launchers pass the code on
    assert end - float(stamp.read_text()) < 10
    assert r.stderr.count("RuntimeError: deliberate fault on rank 1") == 1, r.stderr
    assert "mpidl rank 1: internal error" in r.stderr


# ---------------------------------------------------------------------- signals
def test_sigkill_of_one_rank_ends_the_job(tmp_path):
    """A rank killed outright (OOM killer, node failure) ends the whole job promptly, non-zero:
    the surviving rank must not wait forever in its next collective."""
    ranks, rc, elapsed = LongJob(tmp_path, tmp_path / "m.h5").signal(signal.SIGKILL)
    assert rc != 0
    assert elapsed < 10, elapsed
    for _ in range(50):  # and the surviving rank is gone too, not left spinning
        if not alive(ranks[0]):
            break
        time.sleep(0.1)
    assert not alive(ranks[0]), "rank 0 outlived the job"


def test_sigterm_to_one_rank_checkpoints_and_resumes(tmp_path):
    model = tmp_path / "m.h5"
    job = LongJob(tmp_path, model)
    _, rc, elapsed = job.signal(signal.SIGTERM)
    out, err = job.out, job.err
    assert "Traceback" not in err, err
    assert rc == 75, f"mpirun exited {rc}\n{err}"
    assert elapsed < 30
    assert out.count("signal received: checkpoint written to") == 1, out[-2000:]
    assert model.exists()
    d = _inspect(model, tmp_path)
    assert d["stop_reason"] == "signal"
    assert d["nranks"] == 2
    ckpt_epochs, ckpt_iters = d["epochs"], d["iterations"]
    assert 0 < ckpt_epochs < 100000

    # resume, on the same and on a different number of ranks: fewer epochs than the job's
    # 100000 but more than the checkpoint's
    target = math.floor(ckpt_epochs) + 2
    for n in (2, 1):
        resumed = tmp_path / f"m2_n{n}.h5"
        r = _mpirun([PY, "-m", "mpidl", "train", str(tmp_path / "job.toml"), "--threads", "1",
                     "--set", f"checkpoint={model}", "--set", f"epochs={target}",
                     "-o", str(resumed)], tmp_path, n=n, timeout=120)
        assert r.returncode == 0, r.stderr
        _no_traceback(r)
        d2 = _inspect(resumed, tmp_path)
        assert d2["stop_reason"] != "signal"
        assert d2["epochs"] >= target
        assert d2["iterations"] > ckpt_iters
        assert d2["nranks"] == n
        assert math.isfinite(d2["training_metrics"]["logloss"])


def test_sigusr1_to_the_launcher_reaches_the_ranks(tmp_path):
    """SIGUSR1 sent to mpirun itself (a batch system's warning before the time limit): both
    families' launchers forward it to every rank, which checkpoint and exit 75."""
    model = tmp_path / "m.h5"
    job = LongJob(tmp_path, model)
    ranks, rc, _ = job.signal(signal.SIGUSR1, rank=None)
    assert rc == 75, f"mpirun exited {rc}\n{job.err}"
    assert job.out.count("signal received: checkpoint written to") == 1, job.out[-2000:]
    assert _inspect(model, tmp_path)["stop_reason"] == "signal"
    assert not any(alive(pid) for pid in ranks.values())


def test_sigterm_to_the_launcher_ends_every_rank_and_leaves_no_torn_model(tmp_path):
    """SIGTERM sent to mpirun: MPICH's forwards it (the ranks checkpoint, exit 75); Open MPI's
    sends SIGTERM to the ranks and SIGKILL a second later, and exits 1 (docs/mpi_families.md).
    Either way every rank ends and the model file is absent or a whole checkpoint."""
    model = tmp_path / "m.h5"
    job = LongJob(tmp_path, model)
    ranks, rc, _ = job.signal(signal.SIGTERM, rank=None)
    assert rc == (75 if forwards_sigterm() else 1), job.err
    assert "Traceback" not in job.err, job.err
    for _ in range(50):
        if not any(alive(pid) for pid in ranks.values()):
            break
        time.sleep(0.1)
    assert not any(alive(pid) for pid in ranks.values()), "a rank outlived the job"
    if model.exists():
        assert _inspect(model, tmp_path)["stop_reason"] == "signal"
    assert not [p.name for p in tmp_path.iterdir() if ".tmp" in p.name]


# ---------------------------------------------------------------------- predict
def test_predict_under_mpirun_equals_one_rank(tmp_path):
    """Each rank scores its block of rows; rank 0 writes one file in row order, the same bytes
    as a one-rank predict."""
    job = _job(tmp_path, BASE_JOB + "epochs = 2\n")
    model = tmp_path / "m.h5"
    r = subprocess.run([PY, "-m", "mpidl", "train", str(job), "--threads", "1", "-o", str(model)],
                       cwd=tmp_path, env=job_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    serial = tmp_path / "p1.csv"
    r = subprocess.run([PY, "-m", "mpidl", "predict", str(model), PROSTATE, "-o", str(serial)],
                       cwd=tmp_path, env=job_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for n in (2, 3):
        par = tmp_path / f"p{n}.csv"
        r = _mpirun([PY, "-m", "mpidl", "predict", str(model), PROSTATE, "-o", str(par)],
                    tmp_path, n=n)
        assert r.returncode == 0, r.stderr
        _no_traceback(r)
        assert par.read_bytes() == serial.read_bytes()
        assert len(par.read_text().splitlines()) == 381
    assert sorted(q.name for q in tmp_path.iterdir() if q.suffix == ".csv") == [
        "p1.csv", "p2.csv", "p3.csv"]  # no temporary file left behind
