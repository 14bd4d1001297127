"""Per-iteration timing on several ranks (issue 16 point 1): the wait for a slow rank."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mpidl.params import validate
from mpidl.train.loop import Trainer

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")


@pytest.mark.mpi(min_size=2)
def test_rank_0_history_shows_the_wait_for_a_slow_last_rank(comm, shared_dir, everywhere,
                                                           monkeypatch):
    """The last rank sleeps 0.1 s after each of its kernel calls (train_while_waiting off):
    every iteration rank 0 waits at least that long."""
    import mpidl.train.kernel_call as kernel_call
    slow = 0.1
    if comm.rank == comm.size - 1:
        original = kernel_call.train_rows

        def slow_train_local(*args):
            n = original(*args)
            time.sleep(slow)
            return n
        monkeypatch.setattr(kernel_call, "train_rows", slow_train_local)

    def body():
        raw = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
                   distribution="bernoulli", hidden=[10], epochs=3, seed=5,
                   replicate_training_data=False, train_samples_per_iteration=0,
                   score_each_iteration=True, train_while_waiting=False)
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "t.h5"), "t",
                    log=lambda *a, **k: None)
        t.run()
        if comm.is_root:
            rows = t.model.history
            assert len(rows) == 3
            for row in rows:   # one iteration per row
                assert row["wait_seconds"] >= 0.9 * slow, row
    everywhere(body)
