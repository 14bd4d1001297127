"""Whole jobs under ``mpirun -n 2 python -m mpidl ...`` (launched from the serial test session).

Exit codes, error reporting, reproducibility, a one-rank fault and a one-rank SIGTERM with a
resume from the checkpoint.  Skipped when no ``mpirun`` sits next to the Python interpreter.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

PY = sys.executable
MPIRUN = str(Path(sys.executable).parent / "mpirun")
PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")

pytestmark = [
    pytest.mark.skipif(not os.access(MPIRUN, os.X_OK), reason=f"no mpirun at {MPIRUN}"),
    pytest.mark.timeout(180),
    pytest.mark.mpi_skip,  # they launch their own mpirun: not from inside an MPI run
]

BASE_JOB = f"""\
training_frame = "{PROSTATE}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
distribution = "bernoulli"
hidden = [10]
"""

# A job that would take hours: only a signal or a fault ends it.
LONG_JOB = BASE_JOB + """\
epochs = 100000
score_interval = 0
stopping_rounds = 0
train_samples_per_iteration = 380
replicate_training_data = false
"""


def _env() -> dict:
    """The environment for a fresh MPI job (no launcher variables leaking in from outside)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIDL_"))}
    env["NUMBA_NUM_THREADS"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    return env


def _mpirun(args, cwd, n=2, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([MPIRUN, "-n", str(n), *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout, **kw)


def _inspect(model, cwd) -> dict:
    r = subprocess.run([PY, "-m", "mpidl", "inspect", str(model), "--json"], cwd=cwd, env=_env(),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _job(tmp_path, text, name="job.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


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

if os.environ.get("PMI_RANK") == "1":
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
    assert r.returncode != 0
    assert end - float(stamp.read_text()) < 10
    assert r.stderr.count("RuntimeError: deliberate fault on rank 1") == 1, r.stderr
    assert "mpidl rank 1: internal error" in r.stderr


# ---------------------------------------------------------------------- SIGTERM
def _children(root: int) -> set[int]:
    """Every descendant pid of ``root`` (from /proc)."""
    parent = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            parent[int(p.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out, frontier = set(), {root}
    while frontier:
        frontier = {c for c, pp in parent.items() if pp in frontier} - out
        out |= frontier
    return out


def _rank_pids(mpirun_pid: int) -> dict[int, int]:
    """{rank: pid} of the ``mpidl train`` processes launched by ``mpirun_pid``."""
    ranks = {}
    for pid in _children(mpirun_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mpidl" not in cmd or b"train" not in cmd:
            continue
        for kv in env:
            if kv.startswith(b"PMI_RANK="):
                ranks[int(kv.split(b"=", 1)[1])] = pid
    return ranks


class _LongJob:
    """``mpirun -n 2 ... train LONG_JOB`` in the background, its output drained by threads;
    ``signal_rank_1`` waits for the first progress line, signals rank 1 and waits for mpirun."""

    def __init__(self, tmp_path, model):
        job = _job(tmp_path, LONG_JOB)
        self.proc = subprocess.Popen([MPIRUN, "-n", "2", PY, "-m", "mpidl", "train", str(job),
                                      "--threads", "1", "-o", str(model)],
                                     cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines, self.errs = [], []
        self._progress = threading.Event()
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.lines, True),
                             daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.errs, False),
                             daemon=True)]
        for t in self._threads:
            t.start()

    def _drain(self, stream, sink, watch):
        for line in stream:
            sink.append(line)
            if watch and line.startswith("iter"):
                self._progress.set()

    def ranks(self) -> dict[int, int]:
        assert self._progress.wait(90), f"no progress line\n{self.out}{self.err}"
        ranks = {}
        for _ in range(50):
            ranks = _rank_pids(self.proc.pid)
            if len(ranks) == 2:
                break
            time.sleep(0.1)
        assert sorted(ranks) == [0, 1], ranks
        return ranks

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._threads:
            t.join(5)

    def signal_rank_1(self, sig) -> tuple[dict[int, int], int, float]:
        """({rank: pid}, mpirun's exit code, seconds from the signal to mpirun's end)."""
        try:
            ranks = self.ranks()
            t0 = time.monotonic()
            os.kill(ranks[1], sig)
            rc = self.proc.wait(timeout=30)
            return ranks, rc, time.monotonic() - t0
        finally:
            self.close()

    @property
    def out(self) -> str:
        return "".join(self.lines)

    @property
    def err(self) -> str:
        return "".join(self.errs)


def test_sigkill_of_one_rank_ends_the_job(tmp_path):
    """A rank killed outright (OOM killer, node failure) ends the whole job promptly, non-zero:
    the surviving rank must not wait forever in its next collective."""
    ranks, rc, elapsed = _LongJob(tmp_path, tmp_path / "m.h5").signal_rank_1(signal.SIGKILL)
    assert rc != 0
    assert elapsed < 10, elapsed
    for _ in range(50):  # and the surviving rank is gone too, not left spinning
        if not Path(f"/proc/{ranks[0]}").exists():
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{ranks[0]}").exists(), "rank 0 outlived the job"


def test_sigterm_to_one_rank_checkpoints_and_resumes(tmp_path):
    model = tmp_path / "m.h5"
    job = _LongJob(tmp_path, model)
    _, rc, elapsed = job.signal_rank_1(signal.SIGTERM)
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


# ---------------------------------------------------------------------- predict
def test_predict_under_mpirun_equals_one_rank(tmp_path):
    """Each rank scores its block of rows; rank 0 writes one file in row order, the same bytes
    as a one-rank predict."""
    job = _job(tmp_path, BASE_JOB + "epochs = 2\n")
    model = tmp_path / "m.h5"
    r = subprocess.run([PY, "-m", "mpidl", "train", str(job), "--threads", "1", "-o", str(model)],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    serial = tmp_path / "p1.csv"
    r = subprocess.run([PY, "-m", "mpidl", "predict", str(model), PROSTATE, "-o", str(serial)],
                       cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
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
