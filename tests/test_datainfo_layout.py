"""DataInfo's layout against input rows written out by hand (spec 1.1, 1.2; docs/quirks.md).

The frame: three categoricals, ``size`` and ``shape`` with two levels each and ``color``
with three, so H2O's order is color, shape, size (DataInfo.java's exchange sort puts the later
of two equal domains first); a numeric ``x`` with a missing value; a constant ``k`` (with a
missing value: still constant, dropped); the response ``y``.

    row  size  shape   color  x    k    y
    0    S     round   red    1    7    10
    1    L     square  blue   2    7    20
    2    L     round   NA     NA   NA   30
    3    S     NA      green  4    7    40
    4    NA    square  red    5    7    50

x: mean 3 over its four values, H2O's (sample) sd sqrt(10/3); y: mean 30, sd sqrt(250).
"""

from __future__ import annotations

import numpy as np

import kernel_driver as KD
from mpidl.comm import SerialComm
from mpidl.data.build_info import build_datainfo
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import write_table
from mpidl.params import validate

NAN = np.nan
S = 1 / np.sqrt(10 / 3)          # x's multiplier
R = 1 / np.sqrt(250)             # y's multiplier


def _frame(path):
    write_table(path, {
        "size": np.array([0, 1, 1, 0, -1], np.int32),
        "shape": np.array([0, 1, 0, -1, 1], np.int32),
        "color": np.array([0, 2, -1, 1, 0], np.int32),
        "x": np.array([1, 2, NAN, 4, 5.0]),
        "k": np.array([7, 7, NAN, 7, 7.0]),
        "y": np.array([10, 20, 30, 40, 50.0])},
        {"size": ["S", "L"], "shape": ["round", "square"], "color": ["red", "green", "blue"]})


def _scoring_frame(path):
    """Two rows to score; color's domain differs (order, and an unseen level 'purple')."""
    write_table(path, {
        "size": np.array([1, -1], np.int32), "shape": np.array([1, 0], np.int32),
        "color": np.array([0, 1], np.int32), "x": np.array([NAN, 3.0 + 1 / S]),
        "k": np.array([7, 7.0]), "y": np.array([30, 60.0])},
        {"size": ["S", "L"], "shape": ["round", "square"], "color": ["blue", "purple", "red"]})


def _inputs(tmp_path, training: bool, **params):
    """(dinfo, X float64[rows, full_n], y, kept rows) of the training or the scoring frame."""
    train = str(tmp_path / "train.h5")
    _frame(train)
    frame = Frame(train)
    p = validate({"training_frame": train, "response_column": "y", **params}, "test")
    dinfo = build_datainfo(frame, frame.read(frame.info.names), p, SerialComm(), train,
                           log=lambda *a, **k: None)
    if not training:
        path = str(tmp_path / "score.h5")
        _scoring_frame(path)
        frame = Frame(path)
    nums, cats, y, _, idx = dinfo.transform(frame.read(frame.info.names), frame.info,
                                            frame.path, training)
    return dinfo, KD.dense_inputs(nums, cats, dinfo.num_start, dinfo.full_n), y, idx


def test_columns_order_and_constant_dropped(tmp_path):
    dinfo, _, _, _ = _inputs(tmp_path, True)
    assert dinfo.cat_names == ["color", "shape", "size"]
    assert dinfo.num_names == ["x"]
    assert dinfo.coef_names() == [
        "color.red", "color.green", "color.blue", "color.missing(NA)",
        "shape.round", "shape.square", "shape.missing(NA)",
        "size.S", "size.L", "size.missing(NA)", "x"]


def test_all_levels_standardized(tmp_path):
    _, X, y, idx = _inputs(tmp_path, True)
    #                 red green blue NA | round square NA | S  L  NA | x
    want = np.array([[1, 0, 0, 0, 1, 0, 0, 1, 0, 0, -2 * S],
                     [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, -1 * S],
                     [0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0],
                     [0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1 * S],
                     [1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 2 * S]])
    np.testing.assert_allclose(X, want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(y, [-20 * R, -10 * R, 0, 10 * R, 20 * R], rtol=1e-12)
    assert idx.tolist() == [0, 1, 2, 3, 4]


def test_reference_levels_dropped(tmp_path):
    """use_all_factor_levels = false: the first level activates nothing; NA keeps its slot."""
    dinfo, X, _, _ = _inputs(tmp_path, True, use_all_factor_levels=False)
    assert dinfo.full_n == 8
    #                 green blue NA | square NA | L  NA | x
    want = np.array([[0, 0, 0, 0, 0, 0, 0, -2 * S],
                     [0, 1, 0, 1, 0, 1, 0, -1 * S],
                     [0, 0, 1, 0, 0, 1, 0, 0],
                     [1, 0, 0, 0, 1, 0, 0, 1 * S],
                     [0, 0, 0, 1, 0, 0, 1, 2 * S]])
    np.testing.assert_allclose(X, want, rtol=1e-6, atol=1e-7)


def test_not_standardized(tmp_path):
    """standardize = false: raw numerics and raw response (rows with a value)."""
    _, X, y, _ = _inputs(tmp_path, True, standardize=False)
    np.testing.assert_array_equal(X[[0, 1, 3, 4], -1], [1, 2, 4, 5])
    np.testing.assert_array_equal(y, [10, 20, 30, 40, 50])


def test_not_standardized_imputes_the_mean(tmp_path):
    _, X, _, _ = _inputs(tmp_path, True, standardize=False)
    assert X[2, -1] == 3.0


def test_skip_drops_rows_with_a_missing_predictor_in_training_only(tmp_path):
    _, X, _, idx = _inputs(tmp_path, True, missing_values_handling="Skip")
    assert idx.tolist() == [0, 1]
    _, Xs, _, idx = _inputs(tmp_path, False, missing_values_handling="Skip")
    assert idx.tolist() == [0, 1]             # scoring imputes: both rows stay
    assert Xs[0, -1] == 0.0


def test_scoring_maps_levels_by_name_and_unseen_to_na(tmp_path):
    """Scoring rows: (L, square, blue, x NA) and (NA, round, purple (unseen), x = mean + sd)."""
    _, X, y, _ = _inputs(tmp_path, False)
    #                 red green blue NA | round square NA | S  L  NA | x
    want = np.array([[0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0],
                     [0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1]])
    np.testing.assert_allclose(X, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(y, [0, 30 * R], rtol=1e-12)
