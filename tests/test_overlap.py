"""averaging_overlap on one process (issue 16 point 5): the non-blocking model allreduce's
serial stand-in, the simulated network's time counted from the start, which slots of the
buffer the fold keeps >= 0, and when the copies overlap."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import mpidl.comm as comm_module
from mpidl.comm import SerialComm
from mpidl.kernels.codes import OPT_ADADELTA, OPT_ADAM, OPT_MOMENTUM, OPT_PLAIN
from mpidl.kernels.fold import fold_delayed_average
from mpidl.train.averaging import ModelCopies
from mpidl.train.copies import model_copies
from mpidl.train.overlap import OverlapCopies, nonnegative_from


class FakeClock:
    """perf_counter and sleep of a clock that only moves when told (or slept)."""

    def __init__(self):
        self.now, self.slept = 100.0, []

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(comm_module.time, "perf_counter", fake.perf_counter)
    monkeypatch.setattr(comm_module.time, "sleep", fake.sleep)
    return fake


def test_serial_iallreduce_is_the_sum_of_one_rank():
    send, recv = np.arange(5, dtype=np.float32), np.zeros(5, dtype=np.float32)
    request = SerialComm().iallreduce_model(send, recv)
    request.wait()
    assert request.done() and np.array_equal(recv, send)


def test_simulated_time_runs_from_the_start_and_wait_sleeps_the_rest(clock):
    """4,000 bytes at alpha = 0.05 s on 2 ranks (Rabenseifner, 2 x 0.05 s): 0.1 s from the
    start.  Compute
    of 0.07 s meanwhile leaves 0.03 s to sleep; compute longer than 0.1 s leaves nothing."""
    comm = SerialComm()
    comm.simulate_network("alpha=0.05,beta=0,gamma=0,ranks=2")
    buf = np.zeros(1000, dtype=np.float32)
    request = comm.iallreduce_model(buf, np.empty_like(buf))
    clock.now += 0.07
    assert not request.done()
    request.wait()
    assert clock.slept == [pytest.approx(0.03)]
    request = comm.iallreduce_model(buf, np.empty_like(buf))
    clock.now += 0.25
    assert request.done()
    request.wait()
    assert len(clock.slept) == 1
    # the blocking allreduce, for contrast, sleeps the whole 0.1 s after the call
    comm.allreduce_model(buf)
    assert clock.slept[-1] == pytest.approx(0.1)


def _model(optimizer: int, n_params: int = 4):
    slots = {OPT_ADADELTA: 2, OPT_ADAM: 2, OPT_MOMENTUM: 1, OPT_PLAIN: 0}[optimizer]
    buf = np.zeros(n_params * (1 + slots), dtype=np.float32)
    params = SimpleNamespace(elastic_averaging=False, elastic_averaging_moving_rate=0.9,
                             averaging_overlap=True, node_shared_model=False)
    return SimpleNamespace(buf=buf, params=params, layout=SimpleNamespace(n_params=n_params),
                           optimizer_code=lambda: optimizer)


@pytest.mark.parametrize("optimizer, start", [(OPT_ADADELTA, 4), (OPT_ADAM, 8),
                                              (OPT_MOMENTUM, 8), (OPT_PLAIN, 4)])
def test_only_the_running_means_of_squares_are_kept_nonnegative(optimizer, start):
    """ADADELTA: both slots (E[g^2], E[dx^2]); Adam: the second (its mean gradient is signed);
    momentum's velocity and the weights: none."""
    assert nonnegative_from(_model(optimizer)) == start


def test_fold_by_hand():
    """Two ranks' snapshots summed (1 + 3 = 4, mean 2), this rank's snapshot 1 and model now
    1.5: 2 + (1.5 - 1) = 2.5; a square's slot at 0.25 whose rank had 3 and the other 0.2 folds
    to 1.6 + (0.25 - 3) < 0, kept at 0."""
    local = np.array([1.5, 0.25], dtype=np.float32)
    fold_delayed_average(local, np.array([1.0, 3.0], np.float32),
                         np.array([4.0, 3.2], np.float32), np.float32(2), 1)
    np.testing.assert_allclose(local, [2.5, 0.0])


def test_one_rank_or_the_default_averages_as_before():
    model = _model(OPT_ADADELTA)
    assert type(model_copies(model, SerialComm())) is ModelCopies       # one rank
    model.params.averaging_overlap = False
    two = SimpleNamespace(size=2, rank=0)
    assert type(model_copies(model, two)) is ModelCopies
    model.params.averaging_overlap = True
    assert type(model_copies(model, two)) is OverlapCopies
