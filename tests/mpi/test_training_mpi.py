"""Short training runs on the real communicator (prostate, a 10-unit net).

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi``; a plain ``pytest``
skips these.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.params import validate
from mpidl.errors import CheckpointedOnSignal
from mpidl.train.loop import Trainer, train

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
BASE = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
            distribution="bernoulli", hidden=[10], epochs=2, reproducible=False,
            replicate_training_data=False, train_samples_per_iteration=0, seed=7)


def quiet(*args, **kw):
    pass


@pytest.mark.mpi
def test_short_training_run(comm, shared_dir, everywhere):
    out = str(shared_dir / "model.h5")

    def body():
        params = validate(BASE, "test")
        model = train(params, comm, 1, out, "mpi_short", log=quiet)
        if comm.is_root:
            assert model is not None
            assert model.training_rows == 380
            assert model.nranks == comm.size
            assert np.all(np.isfinite(model.buf))
            assert model.epoch_counter >= 2
            assert np.isfinite(model.training_metrics["logloss"])
        else:
            assert model is None
        return True
    assert everywhere(body)
    comm.barrier()  # rank 0 wrote the file before leaving train()

    def check_file():
        m = read_model(out)
        assert m.training_rows == 380 and m.nranks == comm.size
        assert np.all(np.isfinite(m.buf))
    everywhere(check_file)


@pytest.mark.mpi
@pytest.mark.parametrize("elastic", [False, True])
def test_every_rank_counts_all_rows_and_ends_with_the_same_model(comm, shared_dir, everywhere,
                                                                 elastic):
    out = str(shared_dir / "model.h5")

    def body():
        # no best-model restore, so rank 0's final buffer is the averaged one every rank has
        params = validate({**BASE, "overwrite_with_best_model": False,
                           "elastic_averaging": elastic}, "test")
        t = Trainer(params, comm, 1, out, "mpi_same", log=quiet)
        assert t.rows == 380 and t.model.training_rows == 380
        assert t.shard.n == len(range(*_block(380, comm)))
        t.run()
        assert np.all(np.isfinite(t.model.buf))
        assert len(set(comm.allgather_obj(t.model.buf.tobytes()))) == 1
        assert len(set(comm.allgather_obj(t.model.iterations))) == 1
    everywhere(body)


def _block(n, comm):
    from mpidl.data.hdf5 import block_range
    return block_range(n, comm.size, comm.rank)


def _in_training_loop(frame) -> bool:
    while frame is not None:
        code = frame.f_code
        if code.co_name == "run" and code.co_filename.endswith(os.path.join("train", "loop.py")):
            return True
        frame = frame.f_back
    return False


@pytest.mark.mpi
def test_sigterm_on_the_last_rank_checkpoints_on_every_rank(comm, shared_dir, everywhere):
    """SIGTERM reaches one rank while it trains: all ranks stop at the iteration's end,
    rank 0 writes the model (stop_reason "signal"), every rank raises CheckpointedOnSignal."""
    out = str(shared_dir / "signalled.h5")
    victim = comm.size - 1
    old_alarm = signal.getsignal(signal.SIGALRM)
    old_term = signal.getsignal(signal.SIGTERM)
    sent = []

    def alarm(signum, frame):
        # deliver SIGTERM only once the training loop (and its signal flag) is running
        if _in_training_loop(frame):
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            signal.setitimer(signal.ITIMER_REAL, 0.05)

    def body():
        params = validate({**BASE, "epochs": 1e5, "score_interval": 0, "stopping_rounds": 0,
                           "train_samples_per_iteration": 380}, "test")
        if comm.rank == victim:
            signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, 0.3)
        try:
            with pytest.raises(CheckpointedOnSignal):
                train(params, comm, 1, out, "mpi_signal", log=quiet)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_alarm)
        assert sent == ([True] if comm.rank == victim else [])
        assert signal.getsignal(signal.SIGTERM) == old_term  # handler restored
    everywhere(body)
    comm.barrier()

    def check_file():
        m = read_model(out)
        assert m.stop_reason == "signal"
        assert 0 < m.epoch_counter < 1e5
        assert m.nranks == comm.size and m.training_rows == 380
        assert np.all(np.isfinite(m.buf))
    everywhere(check_file)


@pytest.mark.mpi(min_size=2)
def test_single_node_mode_trains_on_rank_0_only(comm, shared_dir, everywhere):
    """single_node_mode with replicated data: rank 0 alone trains, so the result is bit for bit
    the 1-rank model (same seed, one thread, shuffled as H2O shuffles rank 0's whole passes);
    the other ranks contribute no rows."""
    def body():
        raw = {**BASE, "replicate_training_data": True, "single_node_mode": True,
               "train_samples_per_iteration": -1, "overwrite_with_best_model": False}
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "snm.h5"), "snm", log=quiet)
        assert t.model.params.single_node_mode and t.trainers == 1
        t.run()
        if comm.is_root:
            from mpidl.comm import SerialComm
            alone = train(validate({**raw, "shuffle_training_data": True}, "test"),
                          SerialComm(), 1, str(shared_dir / "one.h5"), "one", log=quiet)
            assert alone.params.single_node_mode is False   # one rank: sanitized away
            assert t.model.processed == alone.processed == 2 * 380
            assert np.array_equal(t.model.buf, alone.buf)
    everywhere(body)


@pytest.mark.mpi(min_size=2)
def test_autotuned_iterations_measure_allreduce_and_bound_the_overshoot(comm, shared_dir,
                                                                       everywhere):
    """-2 with replicated data (H2O's defaults): the allreduce time is measured, every iteration
    is at most a tenth of the run, so the run ends within ~10 % past the requested epochs.
    (Without train_while_waiting, whose extra rows make iterations longer than tspi.)"""
    def body():
        raw = {**BASE, "replicate_training_data": True, "train_samples_per_iteration": -2,
               "epochs": 20, "train_while_waiting": False}
        model = train(validate(raw, "test"), comm, 1, str(shared_dir / "auto.h5"), "auto",
                      log=quiet)
        if comm.is_root:
            assert model.comm_seconds > 0
            assert 1 <= model.tspi <= 20 * 380 / 10
            assert 20 <= model.epoch_counter <= 22.01
            assert model.iterations >= 10
    everywhere(body)


@pytest.mark.mpi(min_size=2)
def test_autotuner_counts_the_wait_of_ranks_faster_than_rank_0(comm, shared_dir, everywhere,
                                                                monkeypatch):
    """-2's overhead is the mean idle time over ranks: when rank 0 is the slowest rank it
    waits for nobody, but every other rank waits for it, and that loss must be seen (rank 0's
    own idle time alone would read ~0 here and keep iterations too short).  The others really
    wait here: train_while_waiting is off."""
    import mpidl.train.kernel_call as kernel_call
    slow = 0.08
    if comm.is_root:
        original = kernel_call.train_rows

        def slow_train_local(*args):
            n = original(*args)
            time.sleep(slow)
            return n
        monkeypatch.setattr(kernel_call, "train_rows", slow_train_local)

    def body():
        raw = {**BASE, "train_samples_per_iteration": -2, "epochs": 30,
               "score_duty_cycle": 0.0, "overwrite_with_best_model": False,
               "max_runtime_secs": 20, "train_while_waiting": False}
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "slow0.h5"), "slow0",
                    log=quiet)
        t.run()
        if comm.is_root:
            # the others' share of the mean: slow * (size - 1) / size >= slow / 2
            assert t.root.tuner.overhead >= 0.4 * slow
            # so iterations are as long as -2 allows (a tenth of the run), not a few rows each
            assert 5 <= t.model.iterations <= 20 and t.model.stop_reason != "max_runtime_secs"
    everywhere(body)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("fill", [True, False])
def test_faster_ranks_train_while_the_slowest_finishes(comm, shared_dir, everywhere,
                                                       monkeypatch, fill):
    """train_while_waiting (-2): rank 0 is made slow; every other rank, done with its share,
    trains more of its rows until rank 0 is done (at most its share again) instead of idling.
    Without it every rank trains the same share.  Either way the run ends at ``epochs`` within
    -2's overshoot bound and every rank holds the same averaged model."""
    import mpidl.train.kernel_call as kernel_call
    original = kernel_call.train_rows
    rows = []

    def counted(*args):
        n = original(*args)
        rows.append(n)
        if comm.is_root:
            time.sleep(0.1)
        return n
    monkeypatch.setattr(kernel_call, "train_rows", counted)

    def body():
        raw = {**BASE, "train_samples_per_iteration": -2, "epochs": 40,
               "score_duty_cycle": 0.0, "overwrite_with_best_model": False,
               "train_while_waiting": fill}
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "fill.h5"), "fill",
                    log=quiet)
        t.run()
        mine = sum(rows) - rows[0] - rows[1]   # less the calibration's warm-up and timed rows
        per_rank = comm.allgather_obj(mine)
        assert sum(per_rank) == t.model.processed
        assert 40 <= t.model.epoch_counter <= 44.01
        others = per_rank[1:]
        if fill:
            assert min(others) > 1.5 * per_rank[0], per_rank
        else:
            # equal shares of the shards: 380 rows over the ranks, rounded per rank
            assert max(others) <= 1.1 * per_rank[0] + t.model.iterations, per_rank
        assert len(set(comm.allgather_obj(t.model.buf.tobytes()))) == 1
    everywhere(body)
