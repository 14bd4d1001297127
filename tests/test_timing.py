"""Per-iteration timing in the scoring history (issue 16 point 1), on one rank."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mpidl.comm import SerialComm
from mpidl.params import validate
from mpidl.report import json_report
from mpidl.train.loop import train
from mpidl.train.timing import PHASES, max_wait, wait_slots

PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")
COLUMNS = [f"{p}_seconds" for p in PHASES]


def test_max_wait_is_the_slowest_ready_less_the_earliest_done():
    # three ranks ready at 1.0, 3.0, 2.0 s; rank 0 trained 0.5 s more while waiting:
    # it stopped at 1.5 s, rank 2 at 2.0 s, so rank 0 waited 3.0 - 1.5 = 1.5 s
    summed = sum(wait_slots(r, 3, ready, done)
                 for r, (ready, done) in enumerate([(1.0, 1.5), (3.0, 3.0), (2.0, 2.0)]))
    assert max_wait(summed) == 1.5
    assert max_wait(wait_slots(0, 1, 0.7, 0.7)) == 0.0


def test_every_history_row_splits_its_seconds_into_phases(tmp_path):
    params = validate(dict(training_frame=PROSTATE, response_column="CAPSULE",
                           ignored_columns=["ID"], distribution="bernoulli", hidden=[10],
                           epochs=3, train_samples_per_iteration=0, score_each_iteration=True,
                           seed=3), "test")
    model = train(params, SerialComm(), 1, str(tmp_path / "m.h5"), "timed", log=lambda *a, **k: 0)
    rows = json.loads(json.dumps(json_report(model)))["scoring_history"]
    assert len(rows) == 3
    before, scored_before = 0.0, 0.0
    for row in rows:
        assert all(row[c] >= 0 for c in COLUMNS)
        assert row["compute_seconds"] > 0 and row["scoring_seconds"] > 0
        assert row["wait_seconds"] == 0.0            # one rank waits for nobody
        # a row's duration is read before its own scoring: between two rows' durations lie
        # the last row's scoring and this row's other phases
        others = sum(row[c] for c in COLUMNS if c != "scoring_seconds")
        assert others + scored_before <= row["duration"] - before + 0.002
        before, scored_before = row["duration"], row["scoring_seconds"]
    assert np.isclose(sum(r["scoring_seconds"] for r in rows), model.scoring_seconds, atol=1e-5)


def test_periodic_checkpoints_count_in_the_next_row(tmp_path):
    params = validate(dict(training_frame=PROSTATE, response_column="CAPSULE",
                           ignored_columns=["ID"], distribution="bernoulli", hidden=[10],
                           epochs=3, train_samples_per_iteration=0, score_each_iteration=True,
                           checkpoint_interval=1e-6, seed=3), "test")
    model = train(params, SerialComm(), 1, str(tmp_path / "m.h5"), "ckpt", log=lambda *a, **k: 0)
    seconds = [r["checkpoint_seconds"] for r in model.history]
    # a checkpoint after iterations 1 and 2 (not after the last): written after a row
    assert seconds[0] == 0.0 and all(s > 0 for s in seconds[1:]), seconds
    assert sorted(p.name for p in tmp_path.glob("m.ckpt-*.h5")) == ["m.ckpt-000001.h5",
                                                                "m.ckpt-000002.h5"]
