"""Threads per rank without --threads (train/threadcount.py): the rule's decisions on given
measurements, and the trainer's use of them (no timing is asserted)."""

from pathlib import Path

import pytest

import mpidl.train.loop as loop
from mpidl.comm import SerialComm
from mpidl.params import validate
from mpidl.train.threadcount import candidates, pick_threads

PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")
JOB = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
           distribution="bernoulli", hidden=[4], epochs=0.5, seed=3,
           train_samples_per_iteration=0)


def test_candidates_are_powers_of_two_and_the_maximum():
    assert candidates(1) == [1]
    assert candidates(2) == [1, 2]
    assert candidates(6) == [1, 2, 4, 6]
    assert candidates(8) == [1, 2, 4, 8]


@pytest.mark.parametrize("measured, expect", [
    ({1: 10e-6, 2: 19e-6}, 1),                 # small job: contention, one thread wins
    ({1: 10e-6, 2: 9.5e-6}, 1),                # 5 % is noise: keep fewer threads
    ({1: 10e-6, 2: 5.5e-6, 4: 3.2e-6}, 4),     # large model: every doubling pays
    ({1: 10e-6, 2: 5.5e-6, 4: 5.2e-6}, 2),     # 4 threads barely better than 2
])
def test_pick_threads(measured, expect):
    assert pick_threads(measured) == expect


def _trainer(tmp_path, threads, choose, measured, monkeypatch):
    monkeypatch.setattr(loop.Trainer, "_seconds_per_row",
                        lambda self, n, seconds=0.2: measured[n])
    lines = []
    t = loop.Trainer(validate(JOB, "test"), SerialComm(), threads, str(tmp_path / "m.h5"), "m",
                     log=lambda *a, **k: lines.append(" ".join(map(str, a))),
                     choose_threads=choose)
    t.run()
    return t, lines


def test_the_trainer_takes_the_rules_choice_and_says_so(tmp_path, monkeypatch):
    t, lines = _trainer(tmp_path, 2, True, {1: 10e-6, 2: 19e-6}, monkeypatch)
    assert t.threads == 1
    said = [ln for ln in lines if ln.startswith("threads per rank")]
    assert len(said) == 1 and said[0].startswith("threads per rank: 1 ")


def test_threads_given_by_the_user_win(tmp_path, monkeypatch):
    t, lines = _trainer(tmp_path, 2, False, {1: 10e-6, 2: 19e-6}, monkeypatch)
    assert t.threads == 2
    assert not [ln for ln in lines if ln.startswith("threads per rank")]


def test_one_core_is_said_without_measuring(tmp_path, monkeypatch):
    t, lines = _trainer(tmp_path, 1, True, {}, monkeypatch)
    assert t.threads == 1
    assert [ln for ln in lines if ln.startswith("threads per rank")] == [
        "threads per rank: 1 (one core per rank; --threads N sets it)"]


@pytest.mark.parametrize("batch, threads, warm, timed", [
    (1, 2, 1, 412),        # online: a one-row warm-up, 0.05 s of rows at 5 GFLOP/s
    (128, 2, 256, 512),    # mini-batch: one batch per thread, then two per thread
    (128, 1, 128, 412),    # one thread: two batches fit in the 0.05 s rows already
])
def test_calibration_times_whole_mini_batches_on_every_thread(batch, threads, warm, timed):
    """A mini-batch run timed on 32 rows split over 2 threads ran batches of 16 rows and chose
    one thread at half the speed (MNIST [1024,1024], batch 128: 9.2k rows/s against 16k)."""
    from types import SimpleNamespace

    import numpy as np

    from mpidl.train.calibrate import seconds_per_row
    params = SimpleNamespace(mini_batch_size=batch, elastic_averaging=False)
    model = SimpleNamespace(params=params, layout=SimpleNamespace(units=(1000, 100, 10)),
                            buf=np.zeros(8, np.float32))
    calls = []
    seconds_per_row(model, 60000, True, SerialComm(), threads, 0.05,
                    lambda buf, center, order: calls.append(order.shape[0]))
    assert calls == [warm, timed]
