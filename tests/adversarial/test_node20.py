"""Replicated training rows in a node's shared memory: bad settings of the node split are
refused on every rank, and a rank killed while the others map the node's window ends the job.

Pretend nodes (``MPIDL_RANKS_PER_NODE=2`` under ``mpirun -n 4``) give two nodes of two ranks on
this machine; their windows are still real shared memory.
"""

import pytest
from harness import refused, run
from mpi_job import LONG_JOB, BASE_JOB, LongJob, job_env, write_job

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip, pytest.mark.timeout(180)]

REPLICATED = BASE_JOB + "epochs = 1\nseed = 1\n"
# hours of training on replicated rows: only a fault ends it
LONG_REPLICATED = LONG_JOB.replace("replicate_training_data = false",
                                   "replicate_training_data = true")


@pytest.mark.parametrize("name, value", [("MPIDL_RANKS_PER_NODE", "0"),
                                         ("MPIDL_RANKS_PER_NODE", "two"),
                                         ("MPIDL_NODE_SHARED_DATA", "yes")])
def test_bad_node_setting_refused(tmp_path, name, value):
    """A node setting that is not a whole number >= 1 (ranks per node) or 0/1 (shared data):
    refused naming the variable, exit 2 on every rank, before any data is read."""
    job = write_job(tmp_path, REPLICATED)
    proc = run(["train", job, "--threads", "1", "-o", tmp_path / "m.h5"], tmp_path, ranks=2,
               env={**job_env(), name: value})
    refused(proc, name, repr(value))
    assert not (tmp_path / "m.h5").exists()


@pytest.mark.parametrize("ranks, per_node, victim", [(2, None, 0), (4, "2", 2), (4, "2", 3)],
                         ids=["window-owner-of-2", "owner-of-pretend-node", "mapper-of-pretend-node"])
def test_sigkill_while_the_window_is_mapped_ends_the_job(tmp_path, ranks, per_node, victim):
    """A rank SIGKILLed while the ranks of its node map the shared training rows (the rank
    that allocated the window, or one that maps it) ends the whole job promptly, non-zero,
    with no rank left behind."""
    env = {"MPIDL_RANKS_PER_NODE": per_node} if per_node else {}
    job = LongJob(tmp_path, tmp_path / "m.h5", n=ranks, text=LONG_REPLICATED, env=env)
    rc, elapsed = job.kill_rank(victim)
    assert rc != 0
    assert elapsed < 10, elapsed
