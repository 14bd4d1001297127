"""Fold assignment (cv/folds.py) against folds worked out by hand from H2O's rules."""

import numpy as np
import pytest

from mpidl.cv.folds import (FOLD_STREAM, assign_folds, column_folds, modulo_folds, random_folds,
                            stratified_folds)
from mpidl.data.frame import Frame
from mpidl.errors import UserError
from mpidl.params import validate


def test_modulo_is_row_index_mod_k():
    assert modulo_folds(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_random_is_the_seeded_fold_stream_in_frame_order():
    # the documented stream: numpy's generator seeded by (seed, FOLD_STREAM), one draw per row
    want = np.random.default_rng([42, 0xF01D]).integers(0, 5, size=1000)
    got = random_folds(1000, 5, 42)
    assert FOLD_STREAM == 0xF01D
    assert got.tolist() == want.tolist()
    assert np.bincount(got, minlength=5).min() > 150          # every fold well filled
    assert random_folds(1000, 5, 43).tolist() != got.tolist()  # another seed, other folds


def test_stratified_keeps_each_class_proportion_to_within_one_row():
    y = np.array([0] * 4 + [1] * 6 + [2] * 11, dtype=float)
    folds = stratified_folds(y, 2, seed=1)
    for cls, n in ((0, 4), (1, 6), (2, 11)):
        counts = np.bincount(folds[y == cls], minlength=2)
        assert sorted(counts.tolist()) == [n // 2, n - n // 2]
    # class proportions in every fold: 4:6:11 split as 2:3:5 and 2:3:6
    per_fold = sorted(tuple(np.bincount(y[folds == k].astype(int), minlength=3)) for k in (0, 1))
    assert per_fold == [(2, 3, 5), (2, 3, 6)]


def test_stratified_missing_response_is_a_stratum_of_its_own():
    y = np.array([np.nan, np.nan, np.nan, 1, 1, 1])
    folds = stratified_folds(y, 3, seed=5)
    assert sorted(folds[:3].tolist()) == [0, 1, 2]
    assert sorted(folds[3:].tolist()) == [0, 1, 2]


def test_fold_column_values_are_the_folds_in_sorted_order():
    assert column_folds(np.array([3.0, 1.0, 2.0, 1.0, 3.0]), "t", "f").tolist() == [2, 0, 1, 0, 2]
    assert column_folds(np.array([1, 0, 1], dtype=np.int32), "t", "f").tolist() == [1, 0, 1]


@pytest.mark.parametrize("values, words", [
    (np.array([4.0, 4.0, 4.0]), "1 distinct value"),
    (np.array([1.0, np.nan, 2.0]), "missing values"),
    (np.array([0, -1, 1], dtype=np.int32), "missing values"),
])
def test_fold_column_refusals_name_the_column(values, words):
    with pytest.raises(UserError, match=f"fold_column.*'f'.*{words}"):
        column_folds(values, "t.csv", "f")


def _frame(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return str(path), Frame(str(path))


def test_assign_folds_reads_the_fold_column_or_the_response(tmp_path):
    path, frame = _frame(tmp_path, "x,y,f\n" + "".join(f"{i},{i % 2},{'ab'[i // 3 % 2]}\n"
                                                       for i in range(8)))
    p = validate(dict(training_frame=path, response_column="y", fold_column="f"), "job")
    assert assign_folds(p, frame).tolist() == [0, 0, 0, 1, 1, 1, 0, 0]
    p = validate(dict(training_frame=path, response_column="y", nfolds=3,
                      fold_assignment="Modulo"), "job")
    assert assign_folds(p, frame).tolist() == [0, 1, 2, 0, 1, 2, 0, 1]
    p = validate(dict(training_frame=path, response_column="y", nfolds=2,
                      fold_assignment="Stratified", seed=3), "job")
    folds = assign_folds(p, frame)
    assert [np.bincount(folds[np.arange(8) % 2 == c], minlength=2).tolist() for c in (0, 1)] \
        == [[2, 2], [2, 2]]
    with pytest.raises(UserError, match="'nfolds': 9 folds for 8 rows"):
        assign_folds(p.replace(nfolds=9), frame)
    with pytest.raises(UserError, match="fold_column': no column 'g'"):
        assign_folds(p.replace(nfolds=0, fold_column="g"), frame)
