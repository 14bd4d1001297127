"""averaging_overlap on the real communicator (issue 16 point 5): the fold of the delayed
average against plain numpy, ranks in step, and convergence close to blocking averaging.

Run inside MPI: ``mpirun -n 2`` (and ``-n 3``) ``python -m pytest --with-mpi tests/mpi``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mpidl.kernels.codes import OPT_ADADELTA, OPT_MOMENTUM
from mpidl.params import validate
from mpidl.train.loop import Trainer
from mpidl.train.overlap import OverlapCopies

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
N_PARAMS = 40   # a pretend model: 40 weights, then two optimizer slots of 40


def quiet(*args, **kw):
    pass


def _pretend_model(buf: np.ndarray, optimizer: int, elastic: bool = False, beta: float = 0.9):
    """What ``OverlapCopies`` reads of a model: its buffer, layout size, optimizer and the
    averaging parameters."""
    params = SimpleNamespace(elastic_averaging=elastic, elastic_averaging_moving_rate=beta,
                             averaging_overlap=True)
    return SimpleNamespace(buf=buf, params=params, local_bufs=None,
                           layout=SimpleNamespace(n_params=N_PARAMS),
                           optimizer_code=lambda: optimizer)


def _rank_buffers(comm, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(this rank's model at the iteration's end, its progress during the next iteration):
    float32[3 * N_PARAMS] each; the squares' slots positive, of a size that differs by rank so
    that folding another rank's difference takes some below zero."""
    rng = np.random.default_rng([seed, comm.rank])
    model = rng.standard_normal(3 * N_PARAMS).astype(np.float32)
    model[N_PARAMS:] = np.abs(model[N_PARAMS:]) * (1 + 10 * comm.rank)
    progress = (0.1 * rng.standard_normal(3 * N_PARAMS)).astype(np.float32)
    progress[N_PARAMS:] = -0.9 * model[N_PARAMS:]     # the running means decay
    return model, progress


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("optimizer, clamped_from", [(OPT_ADADELTA, N_PARAMS),
                                                     (OPT_MOMENTUM, 3 * N_PARAMS)])
def test_fold_is_the_mean_of_snapshots_plus_own_progress(comm, everywhere, optimizer,
                                                         clamped_from):
    """local <- mean_i(snapshot_i) + (local - snapshot), by numpy over every rank's buffers
    (allgathered), the optimizer's squares kept >= 0; the last rank trained no row, so the
    mean is over the others (it still folds the mean in)."""
    def body():
        model, progress = _rank_buffers(comm, 11)
        copies = OverlapCopies(_pretend_model(model, optimizer), comm)
        contributes = comm.rank < comm.size - 1
        snapshots = comm.allgather_array(model.copy())
        copies.combine(1 if contributes else 0, comm.size - 1)
        assert copies.pending is not None
        model += progress                     # trained while the sum was in flight
        now = model.copy()
        copies.finish_average()
        expected = (snapshots[:-1].astype(np.float64).mean(axis=0)
                    + (now.astype(np.float64) - snapshots[comm.rank]))
        expected[clamped_from:] = np.maximum(expected[clamped_from:], 0.0)
        np.testing.assert_allclose(model, expected, rtol=1e-5, atol=1e-5)
        if clamped_from < 3 * N_PARAMS:       # the clamp was needed somewhere
            raw = snapshots[:-1].mean(axis=0) + (now - snapshots[comm.rank])
            assert comm.allreduce_sum(np.array([np.sum(raw[clamped_from:] < 0)]))[0] > 0
        assert copies.pending is None
        copies.finish_average()                       # nothing in flight: no change
        np.testing.assert_allclose(model, expected, rtol=1e-5, atol=1e-5)
    everywhere(body)


@pytest.mark.mpi(min_size=2)
def test_elastic_overlap_moves_the_consensus_by_the_delayed_mean(comm, everywhere):
    """Elastic averaging: the local model is never replaced; the consensus becomes
    beta * mean(snapshots) + (1 - beta) * consensus (the mean itself the first time)."""
    def body():
        model, progress = _rank_buffers(comm, 12)
        beta = 0.7
        copies = OverlapCopies(_pretend_model(model, OPT_ADADELTA, True, beta), comm)
        center = copies.center
        snapshots = comm.allgather_array(copies.local.copy()).astype(np.float64)
        for step in range(2):
            before = center.astype(np.float64)
            copies.combine(1, comm.size)
            copies.local += progress
            local_now = copies.local.copy()
            copies.finish_average()
            mean = snapshots.mean(axis=0)
            want = mean if step == 0 else beta * mean + (1 - beta) * before
            np.testing.assert_allclose(center, want, rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(copies.local, local_now)
            snapshots = comm.allgather_array(copies.local.copy()).astype(np.float64)
    everywhere(body)


def _prostate(overlap: bool, **extra) -> dict:
    return dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
                distribution="bernoulli", hidden=[20], epochs=60, seed=4,
                replicate_training_data=False, train_samples_per_iteration=38,
                score_interval=0.05, overwrite_with_best_model=False,
                averaging_overlap=overlap, **extra)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("elastic", [False, True])
def test_ranks_stay_in_step_and_end_with_one_model(comm, shared_dir, everywhere, elastic):
    """Every rank runs the same iterations and ends with the same model, bit for bit, with
    averages in flight between scorings (the counts allreduce and the control record stay
    blocking); its history rows are those of blocking averaging."""
    def body():
        t = Trainer(validate(_prostate(True, elastic_averaging=elastic), "test"), comm, 1,
                    str(shared_dir / "o.h5"), "o", log=quiet)
        assert type(t.model).__name__ == "Model"
        t.run()
        assert type(t.copies) is OverlapCopies and t.copies.pending is None
        counts = comm.allgather_obj((t.model.iterations, t.model.processed))
        assert len(set(counts)) == 1, counts
        models = comm.allgather_array(t.model.buf)
        assert all(np.array_equal(models[0], b) for b in models[1:])
        if comm.is_root:
            assert t.model.iterations > 2 * len(t.model.history)   # unscored iterations
            assert {"allreduce_seconds", "compute_seconds"} <= set(t.model.history[-1])
    everywhere(body)


@pytest.mark.mpi(min_size=2)
def test_overlap_converges_close_to_blocking_averaging(comm, shared_dir, everywhere):
    """Prostate, 60 epochs of 38-row iterations: the training logloss with averages folded in
    an iteration late is within 0.02 of blocking averaging's (both far below the 0.69 of a
    coin toss)."""
    def body():
        loss = {}
        for overlap in (False, True):
            t = Trainer(validate(_prostate(overlap), "test"), comm, 1,
                        str(shared_dir / f"c{overlap}.h5"), "c", log=quiet)
            t.run()
            loss[overlap] = t.model.training_metrics["logloss"]
        if comm.is_root:
            assert loss[False] < 0.55 and loss[True] < 0.55, loss
            assert abs(loss[True] - loss[False]) < 0.02, loss
    everywhere(body)
