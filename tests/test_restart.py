"""Checkpoint restart: 2 epochs == 1 epoch + checkpoint + 1 more epoch, bit for bit."""

from pathlib import Path

import h5py
import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.comm import SerialComm
from mpidl.errors import UserError
from mpidl.params import validate
from mpidl.train.loop import train

PROSTATE = str(Path(__file__).resolve().parents[1] / "data" / "prostate.csv")


def _params(**over):
    raw = {"training_frame": PROSTATE, "response_column": "CAPSULE", "ignored_columns": ["ID"],
           "distribution": "bernoulli", "hidden": [16, 8], "reproducible": True, "seed": 1234,
           "input_dropout_ratio": 0.1, "activation": "RectifierWithDropout",
           "stopping_rounds": 0}
    raw.update(over)
    return validate(raw, "test")


def _run(tmp_path, name, **over):
    out = str(tmp_path / f"{name}.h5")
    train(_params(**over), SerialComm(), 1, out, name, log=lambda *a, **k: None)
    with h5py.File(out) as f:
        return out, f["buf"][...]


@pytest.mark.parametrize("overwrite_with_best_model", [False, True])
def test_restart_equals_uninterrupted_run(tmp_path, overwrite_with_best_model):
    _, straight = _run(tmp_path, "straight", epochs=3,
                       overwrite_with_best_model=overwrite_with_best_model)
    first, _ = _run(tmp_path, "first", epochs=1,
                    overwrite_with_best_model=overwrite_with_best_model)
    _, resumed = _run(tmp_path, "resumed", epochs=3, checkpoint=first,
                      overwrite_with_best_model=overwrite_with_best_model)
    assert resumed.dtype == np.float32
    assert np.array_equal(straight, resumed)
    m = read_model(str(tmp_path / "resumed.h5"))
    assert m.epoch_counter == pytest.approx(3.0)
    assert m.iterations == 3
    assert len(m.history) >= 3


def test_reproducible_reruns_are_identical(tmp_path):
    _, a = _run(tmp_path, "a", epochs=2)
    _, b = _run(tmp_path, "b", epochs=2)
    assert np.array_equal(a, b)
    _, c = _run(tmp_path, "c", epochs=2, seed=99)
    assert not np.array_equal(a, c)


def test_restart_rejects_changed_architecture_and_spent_epochs(tmp_path):
    first, _ = _run(tmp_path, "first", epochs=1)
    with pytest.raises(UserError, match="hidden"):
        _run(tmp_path, "bad", epochs=2, checkpoint=first, hidden=[16, 9])
    with pytest.raises(UserError, match="epochs"):
        _run(tmp_path, "spent", epochs=1, checkpoint=first)
