"""One model per node (``node_shared_model = true``, train/node_model.py), run under mpirun with
pytest-mpi (a plain pytest skips these).

Nodes are pretend nodes of two consecutive ranks (``MPIDL_RANKS_PER_NODE=2``): under
``mpirun -n 4`` two nodes of two ranks, under ``-n 3`` one of two and one of one, under ``-n 2``
one node.  The average is checked against plain numpy on copies of every rank's buffer gathered
before it; the number of ranks that take part in the model allreduce is counted on the
communicators (``model_allreduces``).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from memory_maps import in_shared_mapping

from mpidl.checkpoint import read_model
from mpidl.params import validate
from mpidl.train import loop
from mpidl.train.node_model import NodeModelCopies
from mpidl.train.periodic import checkpoint_files

pytestmark = pytest.mark.timeout(300, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
JOB = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
           distribution="bernoulli", hidden=[8], epochs=6, seed=5, score_interval=0,
           stopping_rounds=0, train_samples_per_iteration=380, node_shared_model=True)


def quiet(*args, **kw):
    pass


@pytest.fixture(autouse=True)
def pairs(monkeypatch):
    """Pretend nodes of two consecutive ranks, on every rank alike."""
    monkeypatch.setenv("MPIDL_RANKS_PER_NODE", "2")


def nodes_of(size: int) -> int:
    """Pretend nodes of two ranks among ``size`` ranks."""
    return (size + 1) // 2


def fake_model(comm, n: int = 1000):
    """A stand-in with what NodeModelCopies uses: a float32 buffer, different on every rank
    (only the node leader's may reach the window)."""
    buf = np.full(n, 1000.0 + comm.rank, dtype=np.float32)
    return SimpleNamespace(buf=buf)


@pytest.mark.parametrize("idle_node", [None, 0], ids=["every-node-trains", "node-0-idle"])
@pytest.mark.mpi
def test_one_averaging_step_gives_every_rank_the_mean_of_the_nodes(comm, everywhere, idle_node):
    """The node's ranks write into one buffer (each rank its own slots, as Hogwild threads);
    after one averaging step every rank's buffer is numpy's mean of the buffers of the nodes
    that trained, from copies gathered before the step; one rank per node (2 under -n 4) took
    part in the model allreduce."""
    model = fake_model(comm)
    copies = NodeModelCopies(model, comm)
    node = comm.node_comm()
    n = model.buf.size

    def started():
        assert in_shared_mapping(model.buf) == (node.size > 1)
        np.testing.assert_array_equal(model.buf, 1000.0 + comm.rank - node.rank)   # the leader's
    everywhere(started)
    node_index = (comm.rank - node.rank) // 2
    trains = node_index != idle_node
    if trains:     # this rank's slots of the node's buffer
        model.buf[node.rank::node.size] = np.sin(np.arange(n)[node.rank::node.size] + comm.rank)
    node.barrier()
    gathered = comm.allgather_array(np.array(model.buf))
    leaders = [r for r in range(comm.size) if r % 2 == 0]
    trained = [r for r in leaders if r // 2 != idle_node]
    expected = gathered[trained].astype(np.float64).mean(axis=0) if trained else gathered[0]
    before = copies.leaders.model_allreduces if copies.leader else 0
    contributors = int(comm.allreduce_sum(np.array([int(copies.contributes(1 if trains else 0))]))[0])
    copies.combine(1 if trains else 0, contributors)
    calls = int(comm.allreduce_sum(np.array(
        [(copies.leaders.model_allreduces if copies.leader else 0) - before]))[0])

    def check():
        assert contributors == len(trained)
        np.testing.assert_allclose(model.buf, expected, rtol=1e-6, atol=1e-6)
        participants = nodes_of(comm.size) if len(trained) > 0 and nodes_of(comm.size) > 1 else 0
        assert calls == participants
        if comm.size == 4:
            assert calls == 2
            assert not copies.leader or copies.leaders.size == 2
    everywhere(check)
    copies.release()
    everywhere(lambda: np.testing.assert_allclose(model.buf, expected, rtol=1e-6, atol=1e-6))
    assert not in_shared_mapping(model.buf)


def train_counting(comm, raw, out):
    """``train`` with the node model's leaders communicator kept aside (it is freed, its
    counter stays readable); returns (the model on rank 0, the leaders' communicator or None
    on the other ranks, the world's model allreduces during the loop)."""
    made = []
    original = loop.model_copies

    def keep(model, c):
        copies = original(model, c)
        made.append(copies.leaders if copies.leader else None)
        return copies
    trainer = loop.Trainer(validate(raw, "test"), comm, 1, out, "m", log=quiet)
    world_before = comm.model_allreduces
    loop.model_copies = keep
    try:
        model = trainer.run()
    finally:
        loop.model_copies = original
        trainer.release()
    return model, made[0], comm.model_allreduces - world_before


@pytest.mark.mpi
def test_training_averages_among_one_leader_per_node(comm, everywhere, shared_dir):
    """A whole run: every averaging step is an allreduce among the node leaders alone (2
    under -n 4), none on the world; every rank ends with the same finite model that learned
    (the training logloss fell by a fifth from the first iteration's), and the rows done are
    every rank's rows (train_samples_per_iteration = 380 a step)."""
    model, leaders, world_calls = everywhere(
        lambda: train_counting(comm, JOB, str(shared_dir / "m.h5")))
    iterations = comm.bcast_obj(model.iterations if comm.is_root else None)
    calls = comm.allgather_obj(leaders.model_allreduces if leaders is not None else 0)
    sizes = comm.allgather_obj(leaders.size if leaders is not None else 0)
    buf = comm.bcast_obj(model.buf if comm.is_root else None)

    def check():
        nodes = nodes_of(comm.size)
        assert world_calls == 0
        assert sum(1 for s in sizes if s) == nodes and all(s in (0, nodes) for s in sizes)
        per_step = sum(1 for c in calls if c) if nodes > 1 else 0
        assert per_step == (nodes if nodes > 1 else 0)
        assert all(c in (0, iterations) for c in calls), (calls, iterations)
        if comm.size == 4:
            assert per_step == 2
        assert np.all(np.isfinite(buf))
        if comm.is_root:
            np.testing.assert_array_equal(model.buf, buf)
            first, last = model.history[0], model.history[-1]
            assert last["training_logloss"] < 0.8 * first["training_logloss"]
            assert model.epoch_counter >= 6
            # rows done count every rank's rows: 380 a step, whatever the nodes
            assert model.run_totals["samples"] == 380 * model.run_totals["iterations"]
    everywhere(check)


@pytest.mark.mpi
def test_a_resume_from_a_node_model_checkpoint_keeps_training(comm, everywhere, shared_dir):
    """3 epochs with a periodic checkpoint after every iteration (rank 0 writes it from its
    node's window), then a resumed run to 6 from the newest: it starts from the checkpoint's
    counters and weights and trains on (more iterations and samples, weights changed)."""
    first, resumed = str(shared_dir / "first.h5"), str(shared_dir / "resumed.h5")
    everywhere(lambda: train_counting(comm, {**JOB, "epochs": 3, "checkpoint_interval": 1e-9},
                                      first))
    comm.barrier()
    newest = checkpoint_files(first)[-1]
    model, _, _ = everywhere(lambda: train_counting(comm, {**JOB, "checkpoint": newest},
                                                    resumed))

    def check():
        if not comm.is_root:
            return
        old = read_model(newest)
        assert old.iterations == 2 and old.stop_reason != "signal"   # the last is not written
        assert old.epoch_counter == 2 and model.epoch_counter >= 6
        assert model.iterations > old.iterations and model.processed > old.processed
        assert model.history[:len(old.history)] == old.history
        assert not np.array_equal(model.buf, old.buf) and np.all(np.isfinite(model.buf))
    everywhere(check)


@pytest.mark.mpi
def test_early_stopping_keeps_the_best_scored_node_model(comm, everywhere, shared_dir):
    """Early stopping (2 rounds, 2 % tolerance) with a noisy fixed rate stops the run before
    its 40 epochs, and the model kept is the best one scored (often not the last: then it is
    restored after the shared window was freed): its training logloss, scored again at the
    end, is the lowest of the history."""
    raw = {**JOB, "epochs": 40, "stopping_rounds": 2, "stopping_tolerance": 0.02, "rate": 0.5,
           "adaptive_rate": False, "score_each_iteration": True}
    model, _, _ = everywhere(lambda: train_counting(comm, raw, str(shared_dir / "m.h5")))

    def check():
        if not comm.is_root:
            return
        assert model.run_totals["epochs"] < 40, model.stop_reason
        best = min(h["training_logloss"] for h in model.history)
        assert model.training_metrics["logloss"] == pytest.approx(best, rel=1e-6)
    everywhere(check)
