"""Periodic checkpoints' schedule and H2O's export_checkpoints_dir (train/periodic.py)."""

from pathlib import Path

import numpy as np

from mpidl.checkpoint import read_model
from mpidl.comm import SerialComm
from mpidl.params import validate
from mpidl.train.loop import train
from mpidl.train.periodic import PeriodicCheckpoints, interval_seconds

PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")


def test_interval_default_is_five_minutes_under_slurm_only():
    assert interval_seconds(-1, {"SLURM_JOB_ID": "12"}) == 300
    assert interval_seconds(-1, {}) == 0
    assert interval_seconds(0, {"SLURM_JOB_ID": "12"}) == 0
    assert interval_seconds(42.5, {}) == 42.5


def test_due_after_the_interval_since_the_last_checkpoint():
    clock = PeriodicCheckpoints("m.h5", 60.0, start_seconds=100.0)
    assert not clock.due(159.0) and clock.due(160.0)
    assert not PeriodicCheckpoints("m.h5", 0.0, 0.0).due(1e9)


def test_finished_model_is_exported_to_export_checkpoints_dir(tmp_path):
    raw = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
               distribution="bernoulli", hidden=[3], epochs=1, seed=4, model_id="exp",
               export_checkpoints_dir=str(tmp_path / "exported"))
    train(validate(raw, "test"), SerialComm(), 1, str(tmp_path / "out.h5"), "exp",
          log=lambda *a, **k: None)
    exported = read_model(str(tmp_path / "exported" / "exp.h5"))
    assert np.array_equal(exported.buf, read_model(str(tmp_path / "out.h5")).buf)
