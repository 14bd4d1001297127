"""A missing numeric becomes the column mean, in training and in scoring, standardized or not.

The model's input rows (``DataInfo.transform`` of its saved DataInfo) are compared with rows
built by hand from the table.
"""

import math

import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.comm import SerialComm
from mpidl.data.frame import Frame
from mpidl.params import validate
from mpidl.train.loop import train

#        a      b    y
TABLE = [(1.0, 10.0, 0.5),
         (2.0, math.nan, 1.5),
         (4.0, 30.0, 2.5),
         (math.nan, 50.0, 3.5)]


def _model(tmp_path, standardize: bool):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,y\n" + "".join(",".join("" if math.isnan(v) else repr(v) for v in row)
                                       + "\n" for row in TABLE))
    params = validate({"training_frame": str(csv), "response_column": "y", "hidden": [2],
                       "epochs": 1, "seed": 1, "reproducible": True,
                       "standardize": standardize}, "test")
    out = str(tmp_path / "m.h5")
    train(params, SerialComm(), 1, out, "m", log=lambda *a, **k: None)
    return read_model(out), csv


def _input_rows(model, csv, training: bool) -> np.ndarray:
    frame = Frame(str(csv))
    cols = frame.read(model.dinfo.predictors + [model.dinfo.response])
    nums, _, _, _, _ = model.dinfo.transform(cols, frame.info, str(csv), training)
    return nums


@pytest.mark.parametrize("training", [True, False], ids=["training", "scoring"])
def test_unstandardized_missing_numeric_is_the_column_mean(tmp_path, training):
    model, csv = _model(tmp_path, standardize=False)
    mean_a, mean_b = (1 + 2 + 4) / 3, (10 + 30 + 50) / 3
    expected = np.array([[1, 10], [2, mean_b], [4, 30], [mean_a, 50]], dtype=np.float32)
    np.testing.assert_allclose(_input_rows(model, csv, training), expected, rtol=1e-6)


def test_standardized_missing_numeric_is_zero(tmp_path):
    model, csv = _model(tmp_path, standardize=True)
    a = np.array([1.0, 2.0, 4.0])
    b = np.array([10.0, 30.0, 50.0])
    za, zb = (a - a.mean()) / a.std(ddof=1), (b - b.mean()) / b.std(ddof=1)  # H2O: sample sd
    expected = np.array([[za[0], zb[0]], [za[1], 0.0], [za[2], zb[1]], [0.0, zb[2]]])
    np.testing.assert_allclose(_input_rows(model, csv, False), expected, rtol=1e-6, atol=1e-7)


def test_model_files_without_a_fill_value_keep_imputing_zero(tmp_path):
    model, csv = _model(tmp_path, standardize=False)
    old = model.dinfo.to_dict()
    del old["num_fill"]
    model.dinfo = type(model.dinfo).from_dict(old)
    assert _input_rows(model, csv, False)[1, 1] == 0.0
