"""The broadcast control record and the row scheduler on the real communicator.

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi``; a plain ``pytest``
skips these.  Most tests record what the loop hands the kernel
(``kernel_call.train_rows``) and, where only the rows matter, skip the training itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import mpidl.train.kernel_call as kernel_call
from mpidl.kernels import codes as K
from mpidl.params import validate
from mpidl.train.loop import Trainer

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")


def quiet(*args, **kw):
    pass


def _record(monkeypatch, train: bool):
    """Calls of the kernel driver as (global row indices, hyper-parameters); ``train=False``
    skips the kernel (the rows are all that is asked about)."""
    calls = []
    original = kernel_call.train_rows

    def recording(model, buf, center, shard, order, threads, seeds, hp):
        calls.append((shard.first_row + order, hp.copy()))
        if train:
            return original(model, buf, center, shard, order, threads, seeds, hp)
        return int(order.shape[0])
    monkeypatch.setattr(kernel_call, "train_rows", recording)
    return calls


def _weighted_csv(comm, folder: Path, n: int) -> str:
    """n rows: x, y, and weights rising with the row number (so shards differ in weight mass)."""
    path = folder / f"weighted{n}.csv"
    if comm.is_root:
        rng = np.random.default_rng(0)
        x = rng.normal(size=n)
        w = np.round(np.linspace(0.5, 6.0, n), 3)
        lines = ["x,y,w"] + [f"{a:.6f},{2 * a + 1:.6f},{b}" for a, b in zip(x, w)]
        path.write_text("\n".join(lines) + "\n")
    comm.barrier()
    return str(path)


def _chi_square_p(observed: np.ndarray, expected: np.ndarray) -> float:
    """Upper-tail p-value of Pearson's chi-square (Wilson-Hilferty normal approximation)."""
    x = float(((observed - expected) ** 2 / expected).sum())
    k = observed.size - 1
    z = ((x / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 0.5 * math.erfc(z / math.sqrt(2))


@pytest.mark.mpi
def test_kernel_hyper_parameters_are_bitwise_equal_on_every_rank(comm, shared_dir, everywhere,
                                                                 monkeypatch):
    """Huber regression scored every iteration (the delta changes): every iteration, every
    rank's kernel gets the same hyper-parameter bytes, and every rank ends with rank 0's delta."""
    calls = _record(monkeypatch, train=True)

    def body():
        raw = dict(training_frame=PROSTATE, response_column="VOL", ignored_columns=["ID"],
                   loss="Huber", hidden=[5], epochs=6, replicate_training_data=False,
                   train_samples_per_iteration=0, score_each_iteration=True, seed=5,
                   stopping_rounds=0)
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "h.h5"), "h", log=quiet)
        t.run()
        hps = [hp.tobytes() for _, hp in calls]
        assert len(hps) == t.model.iterations
        everyone = comm.allgather_obj(hps)
        assert all(h == everyone[0] for h in everyone)
        deltas = {hp[K.HP_HUBER_DELTA] for _, hp in calls}
        assert len(deltas) > 1                      # the delta did change during training
        assert len(set(comm.allgather_obj(t.model.huber_delta))) == 1
    everywhere(body)


@pytest.mark.mpi(min_size=2)
def test_replicated_ranks_visit_their_rows_in_different_orders(comm, shared_dir, everywhere,
                                                               monkeypatch):
    """Replicated data, one whole pass per rank per iteration (tspi = -1): H2O shuffles, so the
    ranks do not all train the same model; each still visits every row once."""
    calls = _record(monkeypatch, train=False)

    def body():
        raw = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
                   distribution="bernoulli", hidden=[5], epochs=2 * comm.size, seed=11,
                   train_samples_per_iteration=-1)
        Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "o.h5"), "o", log=quiet).run()
        first = calls[0][0]
        assert sorted(first.tolist()) == list(range(380))
        orders = comm.allgather_obj(first.tobytes())
        assert len(set(orders)) == comm.size
        assert calls[1][0].tobytes() != first.tobytes()   # a new order every iteration
    everywhere(body)


@pytest.mark.mpi
def test_importance_sampling_follows_the_weights_across_shards(comm, shared_dir, everywhere,
                                                               monkeypatch):
    """Sharded rows whose weight mass differs by shard: over a seeded run every row of the
    frame is visited in proportion to its weight (chi-square against rows x w / sum w)."""
    data = _weighted_csv(comm, shared_dir, 90)
    calls = _record(monkeypatch, train=False)

    def body():
        raw = dict(training_frame=data, response_column="y", weights_column="w", hidden=[2],
                   epochs=300, replicate_training_data=False, train_samples_per_iteration=0,
                   seed=13, score_interval=1e6, stopping_rounds=0)
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "w.h5"), "w", log=quiet)
        t.run()
        local = np.bincount(np.concatenate([rows for rows, _ in calls]), minlength=90)
        counts = comm.allreduce_sum(local.astype(np.float64))
        w = np.round(np.linspace(0.5, 6.0, 90), 3)
        assert counts.sum() == t.model.processed == 300 * 90
        p = _chi_square_p(counts, counts.sum() * w / w.sum())
        assert p > 1e-3, f"chi-square p = {p:.3g}"
    everywhere(body)


@pytest.mark.mpi
def test_epochs_zero_trains_no_row_and_scores_the_initial_model(comm, shared_dir, everywhere,
                                                               monkeypatch):
    calls = _record(monkeypatch, train=True)

    def body():
        raw = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
                   distribution="bernoulli", hidden=[5], epochs=0, seed=2)
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "z.h5"), "z", log=quiet)
        initial = t.model.buf.copy()
        t.run()
        assert all(rows.size == 0 for rows, _ in calls)
        assert t.model.processed == 0 and t.model.epoch_counter == 0
        assert np.array_equal(t.model.buf, initial)
        if comm.is_root:
            assert len(t.model.history) == 1 and t.model.stop_reason == "epochs"
    everywhere(body)


@pytest.mark.mpi
def test_one_epoch_per_iteration_of_an_odd_row_count_trains_exactly_the_epochs_asked(
        comm, shared_dir, everywhere, monkeypatch):
    """tspi = 0 (one epoch per iteration) with 381 rows, replicated and sharded: 2 epochs are
    2 iterations of 381 rows over all ranks (not 3 iterations of 2 x 190)."""
    data = _weighted_csv(comm, shared_dir, 381)
    calls = _record(monkeypatch, train=False)

    def body():
        for replicated in (True, False):
            calls.clear()
            raw = dict(training_frame=data, response_column="y", hidden=[2], epochs=2,
                       replicate_training_data=replicated, train_samples_per_iteration=0,
                       seed=17, stopping_rounds=0)
            t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "e.h5"), "e",
                        log=quiet)
            t.run()
            assert t.model.iterations == 2 and t.model.processed == 2 * 381
            assert t.model.epoch_counter == 2.0
    everywhere(body)


@pytest.mark.mpi
def test_a_restart_starts_every_rank_from_the_checkpoints_huber_delta(comm, shared_dir,
                                                                     everywhere, monkeypatch):
    """The Huber delta a checkpoint holds (rank 0's, from its last scoring) is the delta every
    rank's kernel trains with in the first iteration after the restart."""
    from mpidl.checkpoint import read_model
    raw = dict(training_frame=PROSTATE, response_column="VOL", ignored_columns=["ID"],
               loss="Huber", hidden=[5], epochs=2, replicate_training_data=False,
               train_samples_per_iteration=0, score_each_iteration=True, seed=5,
               stopping_rounds=0, overwrite_with_best_model=False)
    first = str(shared_dir / "first.h5")
    everywhere(lambda: Trainer(validate(raw, "test"), comm, 1, first, "a", log=quiet).run())
    comm.barrier()
    calls = _record(monkeypatch, train=True)

    def body():
        saved = read_model(first).huber_delta
        assert saved != 1.0
        again = validate({**raw, "epochs": 3, "checkpoint": first}, "test")
        Trainer(again, comm, 1, str(shared_dir / "second.h5"), "a", log=quiet).run()
        assert calls[0][1][K.HP_HUBER_DELTA] == saved
        assert len(set(comm.allgather_obj(calls[0][1].tobytes()))) == 1
    everywhere(body)
