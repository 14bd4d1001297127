"""One model per node (``node_shared_model = true``): the combinations it refuses end with one
line naming the parameter and exit 2 on every rank, before training; a rank killed while the
others map the node's model window ends the job promptly; a signal checkpoints the node's model
(exit 75) and a resume from it trains on.

Pretend nodes (``MPIDL_RANKS_PER_NODE=2`` under ``mpirun -n 4``) give two nodes of two ranks on
this machine; their windows are real shared memory.
"""

import json
import math
import signal
import subprocess

import pytest
from harness import fingerprint, refused, run
from mpi_job import BASE_JOB, LONG_JOB, PY, LongJob, job_env, write_job

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip, pytest.mark.timeout(240)]

NODE_MODEL = BASE_JOB + "epochs = 1\nseed = 1\nnode_shared_model = true\n"
# hours of training on one model per node: only a fault or a signal ends it
LONG_NODE_MODEL = LONG_JOB.replace("replicate_training_data = false",
                                   "replicate_training_data = true\nnode_shared_model = true")
PAIRS = {"MPIDL_RANKS_PER_NODE": "2"}


def _inspect(model, cwd) -> dict:
    r = subprocess.run([PY, "-m", "mpidl", "inspect", str(model), "--json"], cwd=cwd,
                       env=job_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("ranks", [None, 4], ids=["1-rank", "mpirun-4"])
@pytest.mark.parametrize("other", ["reproducible", "elastic_averaging"])
def test_node_model_with_a_combination_it_cannot_train_is_refused(tmp_path, ranks, other):
    """reproducible (Hogwild across processes cannot be reproduced) and elastic_averaging (a
    node's model is averaged, not elastic): one line naming both parameters, exit 2, no model."""
    job = write_job(tmp_path, NODE_MODEL + f"{other} = true\n")
    proc = run(["train", job, "--threads", "1", "-o", tmp_path / "m.h5"], tmp_path,
               ranks=ranks, env={**job_env(), **PAIRS})
    refused(proc, "node_shared_model", other)
    assert not (tmp_path / "m.h5").exists()


def test_a_resume_of_a_node_model_in_reproducible_mode_is_refused(tmp_path):
    """A node model's checkpoint continued with reproducible = true: the same one-line refusal,
    and the checkpoint is left as it was."""
    job = write_job(tmp_path, NODE_MODEL)
    model = tmp_path / "m.h5"
    done = run(["train", job, "--threads", "1", "-o", model], tmp_path, env=job_env())
    assert done.returncode == 0, done.stderr
    before = fingerprint([model])
    proc = run(["train", job, "--threads", "1", "--set", f"checkpoint={model}", "--set",
                "epochs=3", "--set", "reproducible=true", "-o", tmp_path / "m2.h5"], tmp_path,
               ranks=4, env={**job_env(), **PAIRS})
    refused(proc, "node_shared_model", "reproducible", untouched=before)
    assert not (tmp_path / "m2.h5").exists()


@pytest.mark.parametrize("victim", [2, 3], ids=["window-owner", "window-mapper"])
def test_sigkill_while_the_model_window_is_mapped_ends_the_job(tmp_path, victim):
    """A rank SIGKILLed while its node's ranks train in the shared model window (the rank
    that allocated it, or one that maps it) ends the whole job in < 10 s, non-zero, with no
    rank left behind."""
    job = LongJob(tmp_path, tmp_path / "m.h5", n=4, text=LONG_NODE_MODEL, env=PAIRS)
    rc, elapsed = job.kill_rank(victim)
    assert rc != 0
    assert elapsed < 10, elapsed


def test_sigterm_checkpoints_the_node_model_and_a_resume_trains_on(tmp_path):
    """SIGTERM to a rank that maps its node's model: the model is written (exit 75), and a
    resume from it on the same pretend nodes trains to more epochs."""
    model = tmp_path / "m.h5"
    job = LongJob(tmp_path, model, n=4, text=LONG_NODE_MODEL, env=PAIRS)
    _, rc, _ = job.signal(signal.SIGTERM, rank=3)
    assert rc == 75, f"mpirun exited {rc}\n{job.err}"
    assert "Traceback" not in job.err, job.err
    d = _inspect(model, tmp_path)
    assert d["stop_reason"] == "signal"
    target = math.floor(d["epochs"]) + 2
    resumed = tmp_path / "m2.h5"
    proc = run(["train", tmp_path / "job.toml", "--threads", "1", "--set",
                f"checkpoint={model}", "--set", f"epochs={target}", "-o", resumed], tmp_path,
               ranks=4, env={**job_env(), **PAIRS})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    d2 = _inspect(resumed, tmp_path)
    assert d2["epochs"] >= target and d2["iterations"] > d["iterations"]
    assert math.isfinite(d2["training_metrics"]["logloss"])
