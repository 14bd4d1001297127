"""``slurm/train.sbatch`` under a real SLURM, and its argument / signal / requeue logic without one.

The SLURM tests submit the quickstart job with ``sbatch -n 2`` and check that it trained under
2 MPI ranks (``srun --mpi=pmi2``), and that SIGUSR1 to the batch script checkpoints the model,
requeues the job and that the requeued run resumes from the checkpoint and finishes.

They need a SLURM whose node is idle: the session's ``slurm`` fixture (tests/slurm_cluster.py,
shared with tests/test_slurm_study.py) starts one with ``MPIDL_TEST_SLURM=1``, or uses the one
already there, or skips (``MPIDL_TEST_SLURM=0``).  Every wait has a
timeout; a job left behind by a failed test is cancelled.

The ``*_fake_srun`` tests run the script with bash and stand-ins for ``srun``/``scontrol``, so its
argument handling, signal forwarding and requeue decision are tested everywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import launcher
import pytest
from slurm_cluster import slurm_env as _env
from slurm_cluster import slurm_run as _run

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "slurm" / "train.sbatch"
QUICKSTART = ROOT / "jobs" / "quickstart.toml"
PY = sys.executable

pytestmark = [pytest.mark.timeout(150), pytest.mark.mpi_skip]

FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
                "PREEMPTED", "BOOT_FAIL", "DEADLINE"}


def _state(jid: str) -> dict:
    """``scontrol show job`` as a dict ({} when SLURM no longer knows the job)."""
    r = _run(["scontrol", "show", "job", "-o", jid], timeout=20)
    if r.returncode != 0:
        return {}
    return dict(kv.split("=", 1) for kv in r.stdout.split() if "=" in kv)


def _wait(jid: str, until, timeout: float, what: str, every: float = 0.25) -> dict:
    """Poll the job until ``until(state)``; fail (with the state) after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    st = {}
    while time.monotonic() < end:
        st = _state(jid)
        if st and until(st):
            return st
        time.sleep(every)
    pytest.fail(f"job {jid}: no {what} after {timeout:.0f} s; last state "
                f"{st.get('JobState')} reason {st.get('Reason')} restarts {st.get('Restarts')}",
                pytrace=False)


def _finished(st: dict) -> bool:
    return st.get("JobState") in FINAL_STATES


@pytest.fixture
def submit(slurm, tmp_path):
    """``submit(*args)`` runs ``sbatch -n 2 slurm/train.sbatch jobs/quickstart.toml *args`` in
    tmp_path; returns (job id, its output file).  Jobs still queued at teardown are cancelled."""
    jobs = []

    def run(*args):
        r = _run(["sbatch", "--parsable", "-n", "2", "-c", "1", "-J", "mpidl-test",
                  "-t", "10",   # a safety net only: the script's USR1 comes 300 s before it
                  f"--chdir={tmp_path}", f"--output={tmp_path}/slurm-%j.out",
                  SCRIPT, QUICKSTART, *args], cwd=tmp_path)
        assert r.returncode == 0, f"sbatch failed: {r.stderr}"
        jid = r.stdout.strip().split(";")[0]
        assert jid.isdigit(), r.stdout
        jobs.append(jid)
        return jid, tmp_path / f"slurm-{jid}.out"

    yield run
    for jid in jobs:
        if not _finished(_state(jid) or {"JobState": "COMPLETED"}):
            _run(["scancel", jid], timeout=20)


def _inspect(model: Path) -> dict:
    r = _run([PY, "-m", "mpidl", "inspect", model, "--json"], timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


# ---------------------------------------------------------------------------- real SLURM
def test_sbatch_quickstart_trains_on_two_ranks(submit, tmp_path):
    model = tmp_path / "quick.h5"
    jid, out = submit("-o", model)
    st = _wait(jid, _finished, 120, "end")
    log = _read(out)
    assert st["JobState"] == "COMPLETED", f"{st['JobState']} {st.get('ExitCode')}\n{log}"
    assert st["ExitCode"] == "0:0" and st["Restarts"] == "0", st
    assert "2 rank(s)" in log, log
    assert f"model written to {model}" in log, log
    assert "requeueing" not in log and "Traceback" not in log, log
    d = _inspect(model)
    assert d["nranks"] == 2
    assert d["training_rows"] == 380
    assert d["epochs"] >= 200            # jobs/quickstart.toml: epochs = 200
    assert d["stop_reason"] != "signal"


EPOCHS = 12000   # 10-20 s of training on 2 ranks of a 2-core machine, plus 4 s of start-up


def test_sbatch_usr1_checkpoints_requeues_and_resumes(submit, tmp_path):
    model = tmp_path / "long.h5"
    jid, out = submit("--set", f"epochs={EPOCHS}", "--set", "hidden=[50,50]",
                      "--set", "stopping_rounds=0", "--set", "classification_stop=-1", "-o", model)
    # signal once training is under way (the handlers are set; some scoring history exists)
    iters = re.compile(r"^iter\s+\d+\s+epochs\s+([0-9.]+)", re.M)
    end = time.monotonic() + 90
    while time.monotonic() < end:
        done = [float(e) for e in iters.findall(_read(out))]
        if done and max(done) >= EPOCHS / 20:
            break
        assert not _finished(_state(jid) or {"JobState": "COMPLETED"}), _read(out)
        time.sleep(0.2)
    else:
        pytest.fail(f"job {jid}: no training progress in 90 s\n{_read(out)}", pytrace=False)
    r = _run(["scancel", "--signal=USR1", "--batch", jid], timeout=20)
    assert r.returncode == 0, r.stderr

    # the checkpoint: copied as soon as it is written (the resumed run overwrites the file)
    ckpt = tmp_path / "checkpoint.h5"
    end = time.monotonic() + 60
    while time.monotonic() < end and "signal received: checkpoint written" not in _read(out):
        time.sleep(0.1)
    assert "signal received: checkpoint written" in _read(out), _read(out)
    shutil.copyfile(model, ckpt)

    _wait(jid, lambda s: int(s.get("Restarts", 0)) >= 1, 60, "requeue")
    st = _wait(jid, _finished, 120, "end after the requeue")
    log = _read(out)
    assert st["JobState"] == "COMPLETED", f"{st['JobState']} {st.get('ExitCode')}\n{log}"
    assert st["Restarts"] == "1" and st["ExitCode"] == "0:0", st
    assert log.count(f"mpidl: checkpointed to {model}; requeueing job {jid}") == 1, log
    assert f"mpidl: restart 1 of job {jid}: resuming from {model}" in log, log
    assert log.count("signal received: checkpoint written") == 1, log
    assert log.count(f"model written to {model}") == 1, log
    assert "Traceback" not in log, log

    c = _inspect(ckpt)
    assert c["stop_reason"] == "signal" and c["nranks"] == 2
    assert EPOCHS / 20 <= c["epochs"] < EPOCHS
    d = _inspect(model)
    assert d["nranks"] == 2 and d["stop_reason"] != "signal"
    assert d["run"]["epochs"] >= EPOCHS    # the kept model may be an earlier scoring point's
    assert d["iterations"] > c["iterations"]
    # one scoring history over both runs: the checkpoint's rows, then the resumed run's
    before = [row["epochs"] for row in c["scoring_history"]]
    after = [row["epochs"] for row in d["scoring_history"]]
    assert len(after) > len(before) >= 2
    assert after[:len(before)] == before
    assert after[-1] >= EPOCHS and all(e > before[-1] for e in after[len(before):])
    shape = [(layer["units"], layer["type"]) for layer in d["layers"]]
    assert shape == [(layer["units"], layer["type"]) for layer in c["layers"]]
    assert [units for units, _ in shape][1:3] == [50, 50]


# ------------------------------------------------------------------- no SLURM: stand-ins
FAKE_SRUN = """#!/bin/bash
# records its arguments, then exits $FAKE_RC -- or, with FAKE_WAIT_SIGNAL=1, waits for SIGUSR1
# (as srun forwards it to the ranks) and exits 75 like a checkpointed mpidl
printf '%s\\n' "$@" > "$FAKE_DIR/srun.args"
if [ "${FAKE_WAIT_SIGNAL:-0}" = 1 ]; then
  trap 'echo USR1 > "$FAKE_DIR/srun.signal"; exit 75' USR1
  echo ready > "$FAKE_DIR/srun.ready"
  for _ in $(seq 1 300); do sleep 0.1; done
  exit 3
fi
exit "${FAKE_RC:-0}"
"""
FAKE_SCONTROL = """#!/bin/bash
printf '%s\\n' "$@" > "$FAKE_DIR/scontrol.args"
"""


def _fake_env(tmp_path, **extra) -> dict:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name, text in (("srun", FAKE_SRUN), ("scontrol", FAKE_SCONTROL)):
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    env = _env()
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    env.update(FAKE_DIR=str(tmp_path), SLURM_JOB_ID="4242", **extra)
    return env


def _srun_mpi() -> str:
    """srun's PMI plugin for the MPI family mpi4py was built against (docs/mpi_families.md)."""
    return "--mpi=pmix" if launcher.family() == "Open MPI" else "--mpi=pmi2"


def _srun_args(tmp_path) -> list[str]:
    return (tmp_path / "srun.args").read_text().splitlines()


def test_script_arguments_fake_srun(tmp_path):
    env = _fake_env(tmp_path)
    r = _run(["bash", SCRIPT, "job.toml", "--set", "epochs=5", "-o", "m.h5"], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    a = _srun_args(tmp_path)
    assert a[0] == _srun_mpi()                       # the plugin of mpi4py's MPI family
    i = a.index("mpidl")
    assert a[i + 1:] == ["train", "job.toml", "--set", "epochs=5", "-o", "m.h5"]

    # a requeued run (SLURM_RESTART_COUNT > 0) resumes from the model named by -o
    (tmp_path / "m.h5").write_bytes(b"x")
    env.update(SLURM_RESTART_COUNT="1")
    r = _run(["bash", SCRIPT, "job.toml", "-o", "m.h5", "--set", "epochs=5"], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    a = _srun_args(tmp_path)
    assert a[a.index("mpidl") + 1:] == ["train", "job.toml", "--set", "epochs=5",
                                        "--set", "checkpoint=m.h5", "-o", "m.h5"]
    assert "resuming from m.h5" in r.stdout

    # --output=, MPIDL_MODEL, the default JOB.h5; MPIDL_SRUN_MPI= leaves --mpi to the cluster
    for args, extra, want in ((["--output=x.h5"], {}, "x.h5"),
                              ([], {"MPIDL_MODEL": "y.h5"}, "y.h5"),
                              ([], {"MPIDL_SRUN_MPI": ""}, "job.h5")):
        env2 = dict(env, SLURM_RESTART_COUNT="0", **extra)
        r = _run(["bash", SCRIPT, "dir/job.toml", *args], cwd=tmp_path, env=env2)
        assert r.returncode == 0, r.stderr
        a = _srun_args(tmp_path)
        assert a[-2:] == ["-o", want], a
        assert (_srun_mpi() in a) == ("MPIDL_SRUN_MPI" not in extra), a

    # mpidl's exit status passes through; only 75 requeues
    r = _run(["bash", SCRIPT, "job.toml"], cwd=tmp_path, env=dict(env, FAKE_RC="2"))
    assert r.returncode == 2 and not (tmp_path / "scontrol.args").exists()
    r = _run(["bash", SCRIPT, "job.toml", "-o", "m.h5"], cwd=tmp_path, env=dict(env, FAKE_RC="75"))
    assert r.returncode == 0, r.stderr
    assert "checkpointed to m.h5; requeueing job 4242" in r.stdout
    assert (tmp_path / "scontrol.args").read_text().split() == ["requeue", "4242"]
    r = _run(["bash", SCRIPT], cwd=tmp_path, env=env)
    assert r.returncode == 2 and "usage:" in r.stderr


def test_script_forwards_usr1_and_requeues_fake_srun(tmp_path):
    env = _fake_env(tmp_path, FAKE_WAIT_SIGNAL="1")
    proc = subprocess.Popen(["bash", str(SCRIPT), "job.toml", "-o", "m.h5"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 20
        while not (tmp_path / "srun.ready").exists() and time.monotonic() < end:
            time.sleep(0.05)
        assert (tmp_path / "srun.ready").exists(), "the stand-in srun never started"
        time.sleep(0.2)          # the script is in `wait` now
        os.kill(proc.pid, signal.SIGUSR1)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (tmp_path / "srun.signal").read_text().strip() == "USR1"
    assert proc.returncode == 0, err
    assert "requeueing job 4242" in out
    assert (tmp_path / "scontrol.args").read_text().split() == ["requeue", "4242"]


# ------------------------------------------------------------------- slurm/grid.sbatch
GRID_SCRIPT = ROOT / "slurm" / "grid.sbatch"
GRID_JOB = f"""\
training_frame = "{ROOT / 'data' / 'prostate.csv'}"
response_column = "CAPSULE"
ignored_columns = ["ID"]
distribution = "bernoulli"
hidden = [4]
epochs = 2
seed = 3
[hyper_parameters]
l2 = [0.0, 1e-4]
rate = [0.005, 0.01]
"""
FAKE_SBATCH = """#!/bin/bash
printf '%s\\n' "$@" > "$FAKE_DIR/sbatch.args"
echo 777
"""


def test_sbatch_grid_array_and_collect(slurm, tmp_path):
    """A 4-point array on the live SLURM: every task trains its point, then the collect step
    (submitted by the first task, after the whole array) writes grid.csv."""
    job, out = tmp_path / "g.toml", tmp_path / "out"
    job.write_text(GRID_JOB)
    out.mkdir()
    r = _run(["sbatch", "--parsable", "--array=0-3", "-n", "1", "-c", "1", "-J", "mpidl-test-grid",
              "-t", "10", f"--chdir={tmp_path}", f"--output={tmp_path}/grid-%A_%a.out",
              GRID_SCRIPT, job, "-o", out], cwd=tmp_path)
    assert r.returncode == 0, f"sbatch failed: {r.stderr}"
    jid = r.stdout.strip().split(";")[0]
    try:
        end = time.monotonic() + 240
        while time.monotonic() < end and not (out / "grid.csv").exists():
            time.sleep(0.5)
        logs = "".join(_read(p) for p in sorted(tmp_path.glob("*.out")))
        assert (out / "grid.csv").exists(), logs
        rows = (out / "grid.csv").read_text().splitlines()
        assert len(rows) == 5 and rows[0].startswith("model_id,l2,rate,logloss"), rows
        assert sorted(p.name for p in out.glob("*.h5")) == [f"g_model_{i}.h5" for i in range(4)]
        assert logs.count("mpidl: collect step") == 1 and "Traceback" not in logs, logs
    finally:
        _run(["scancel", jid], timeout=20)


def test_grid_script_fake_srun(tmp_path):
    """Array task I runs ``grid JOB --index I``; the first task submits the collect step once
    (not on a requeue); without an array the options pass through; 75 requeues the task."""
    env = _fake_env(tmp_path, SLURM_ARRAY_TASK_ID="0", SLURM_ARRAY_TASK_MIN="0",
                    SLURM_ARRAY_JOB_ID="900")
    (tmp_path / "bin" / "sbatch").write_text(FAKE_SBATCH)
    (tmp_path / "bin" / "sbatch").chmod(0o755)
    r = _run(["bash", GRID_SCRIPT, "g.toml", "-o", "out", "--threads", "2"], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    a = _srun_args(tmp_path)
    assert a[a.index("mpidl") + 1:] == ["grid", "g.toml", "--threads", "2", "--index", "0",
                                        "-o", "out"]
    s = (tmp_path / "sbatch.args").read_text().splitlines()
    assert "--dependency=afterany:900" in s
    assert s[-1].startswith("--wrap=") and s[-1].endswith("-m mpidl grid g.toml --collect out ")
    assert "collect step 777 writes out/grid.csv after array job 900" in r.stdout
    (tmp_path / "sbatch.args").unlink()
    for extra in ({"SLURM_ARRAY_TASK_ID": "3"}, {"SLURM_RESTART_COUNT": "1"}):
        r = _run(["bash", GRID_SCRIPT, "g.toml", "-o", "out"], cwd=tmp_path, env=dict(env, **extra))
        assert r.returncode == 0, r.stderr
        assert not (tmp_path / "sbatch.args").exists()      # only the first task, only once
    plain = {k: v for k, v in env.items() if not k.startswith("SLURM_ARRAY")}
    r = _run(["bash", GRID_SCRIPT, "g.toml", "--output=out", "--ranks-per-model", "2"],
             cwd=tmp_path, env=dict(plain, FAKE_RC="75"))
    assert r.returncode == 0, r.stderr
    a = _srun_args(tmp_path)
    assert a[a.index("mpidl") + 1:] == ["grid", "g.toml", "--ranks-per-model", "2", "-o", "out"]
    assert "requeueing job 4242" in r.stdout
    assert (tmp_path / "scontrol.args").read_text().split() == ["requeue", "4242"]
    r = _run(["bash", GRID_SCRIPT], cwd=tmp_path, env=env)
    assert r.returncode == 2 and "usage:" in r.stderr
