"""The per-iteration work outside the kernels (issue 16's fixed cost): one broadcast per
iteration that does not score, and the rows trained while waiting drawn without permuting the
whole shard."""

from __future__ import annotations

from itertools import permutations
from pathlib import Path

import numpy as np

from mpidl.comm import SerialComm
from mpidl.params import validate
from mpidl.train.control import Control
from mpidl.train.loop import train
from mpidl.train.rows import RowPlan

PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")


class CountingComm(SerialComm):
    """One rank that notes what each broadcast of the training loop carried: "control" (a
    Control record), "score" (the verdict that scoring comes first) or nothing else."""

    def __init__(self):
        super().__init__()
        self.said: list[str] = []

    def bcast_obj(self, obj, root=0):
        if isinstance(obj, Control):
            self.said.append("control")
        elif obj == "score" or (isinstance(obj, tuple) and obj and isinstance(obj[0], str)):
            self.said.append(obj if isinstance(obj, str) else obj[0])
        return super().bcast_obj(obj, root)


def test_an_iteration_without_scoring_is_one_broadcast(tmp_path):
    # 380 rows, 100 per iteration, 6 epochs: 23 iterations, scored only now and then (every
    # 0.3 s of training): every iteration broadcasts its control record once, and those
    # that score first say "score" (two broadcasts, the record waits for the metrics)
    params = validate(dict(training_frame=PROSTATE, response_column="CAPSULE",
                           ignored_columns=["ID"], distribution="bernoulli", hidden=[10],
                           epochs=6, train_samples_per_iteration=100, score_interval=0.3,
                           score_duty_cycle=1.0, stopping_rounds=0, seed=3), "test")
    comm = CountingComm()
    model = train(params, comm, 1, str(tmp_path / "m.h5"), "bc", log=lambda *a, **k: 0)
    scored = {row["iterations"] for row in model.history}
    assert model.iterations == 23 and 1 <= len(scored) < model.iterations
    expected = ["control"]                        # the first iteration's record
    for it in range(1, model.iterations + 1):
        expected += ["score", "control"] if it in scored else ["control"]
    assert comm.said == expected


def test_rows_trained_while_waiting_are_a_uniform_random_sample_in_random_order():
    # 4 local rows, 2 drawn: each of the 12 ordered pairs of distinct rows is equally likely
    # (1/12), as a random pass in random order (RowPlan.order with shuffle) gives them
    plan = RowPlan(4, 0, np.ones(1), shuffle=False)
    rng = np.random.default_rng(5)
    draws = 12000
    seen = {pair: 0 for pair in permutations(range(4), 2)}
    for _ in range(draws):
        rows = plan.sample(2, rng)
        assert rows.dtype == np.int64
        seen[tuple(int(r) for r in rows)] += 1
    expected = draws / 12
    chi2 = sum((c - expected) ** 2 / expected for c in seen.values())
    assert chi2 < 35.0, seen      # 11 degrees of freedom: p ~ 2e-4 by chance


def test_sample_takes_whole_passes_and_weights_as_order_does():
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    plan = RowPlan(5, 0, np.ones(1), shuffle=False)
    # 12 rows of a 5-row shard: passes as order draws them, the same stream
    assert np.array_equal(plan.sample(12, rng_a), plan.order(12, rng_b, shuffle=True))
    weighted = RowPlan(3, 0, np.ones(1), False, np.array([1.0, 2.0, 5.0]))
    assert np.array_equal(weighted.sample(2, rng_a), weighted.order(2, rng_b))
    assert plan.sample(0, rng_a).shape == (0,)
