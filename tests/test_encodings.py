"""``categorical_encoding`` Binary, LabelEncoder, EnumLimited and SortByResponse (issue 15,
point 1): H2O's frame rewrites (``FrameUtils.categoricalEncoder``, ``CreateInteractions``,
``ModelBuilder``'s response reordering) checked against the rules written out by hand here on
small frames (names, values, missing and unseen levels at scoring), then a model trained with
each encoding on adult census that predicts a test frame with an unseen level.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from cli_run import mpidl
from export_models import _adult_tables

from mpidl.checkpoint import read_model
from mpidl.comm import SerialComm
from mpidl.data.encodings import encode_frame, plan_encoding, sorted_by_response
from mpidl.data.hdf5 import ColumnInfo, TableInfo

LEVELS = ("a", "b", "c", "d", "e", "f")
# codes of the training column: a x1, b x5, c x3, d x3, e x2, f never, two missing
TRAIN = np.array([1, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 1, 4, 0, -1, -1], dtype=np.int32)
# new data: its own level order, an unseen level "zz" and a missing value
NEW_DOMAIN = ("f", "zz", "b", "a")
NEW = np.array([0, 1, 2, 3, -1], dtype=np.int32)       # f, zz, b, a, missing


def _info(domain, name="g") -> TableInfo:
    return TableInfo("t.csv", 0, (ColumnInfo(name, "categorical", tuple(domain)),
                                  ColumnInfo("x", "numeric")))


def _encode(scheme: str, max_levels: int = 10):
    """(training TableInfo and columns, new data's) encoded with the plan of ``TRAIN``."""
    info = _info(LEVELS)
    plan = plan_encoding(scheme, max_levels, info, {"g": TRAIN}, info.columns, SerialComm())
    train = {"g": TRAIN, "x": np.zeros(TRAIN.size)}
    new = {"g": NEW, "x": np.zeros(NEW.size)}
    return (encode_frame(plan, train, info, "t.csv"), train,
            encode_frame(plan, new, _info(NEW_DOMAIN), "new.csv"), new)


def test_binary_is_one_plus_the_level_index_in_bits_zero_for_missing_unseen_missing_bits():
    train_info, train, new_info, new = _encode("Binary")
    # 6 levels: 1 + floor(log2 6) = 3 bit columns, appended after the other columns
    assert train_info.names == ("x", "g:0", "g:1", "g:2")
    assert all(train_info.column(f"g:{k}").kind == "numeric" for k in range(3))
    value = {-1: 0, 0: 1, 1: 2, 2: 3, 3: 4, 4: 5}          # NA -> 0, level i -> i + 1
    for k in range(3):
        assert train[f"g:{k}"].tolist() == [(value[c] >> k) & 1 for c in TRAIN.tolist()]
    # new data: f (index 5 -> 6 = 110), zz (unseen: every bit missing), b (2 = 010),
    # a (1 = 001), NA (0)
    nan = np.nan
    bits = np.array([[0, 1, 1], [nan, nan, nan], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    got = np.column_stack([new[f"g:{k}"] for k in range(3)])
    assert new_info.names[-3:] == ("g:0", "g:1", "g:2")
    np.testing.assert_array_equal(got, bits)


@pytest.mark.parametrize("levels, width", [(1, 1), (2, 2), (3, 2), (4, 3), (7, 3), (8, 4),
                                           (1000, 10)])
def test_binary_width_is_h2os(levels, width):
    from mpidl.data.encodings import binary_width
    assert binary_width(levels) == width


def test_label_encoder_is_the_training_level_index_missing_for_na_and_unseen():
    train_info, train, new_info, new = _encode("LabelEncoder")
    assert train_info.names == ("g", "x") and train_info.column("g").kind == "numeric"
    np.testing.assert_array_equal(train["g"], np.where(TRAIN < 0, np.nan, TRAIN))
    np.testing.assert_array_equal(new["g"], [5, np.nan, 1, 0, np.nan])


@pytest.mark.parametrize("domain, want", [
    # every level reads as a Java int: H2O's categoricalToInt writes the numbers themselves
    (("+4", "-3", "007", "10", "2"), [4, -3, 7, 10, 2]),
    # the first level is not an int: the level index
    (("a", "1", "2"), [0, 1, 2]),
    # the first reads, a later one does not (H2O fails there): the level index
    (("1", "2", "x"), [0, 1, 2]),
    # 2^31 is past Java's int: the level index
    (("1", "2147483648"), [0, 1]),
    (("1.5", "2"), [0, 1]),
])
def test_label_encoder_uses_the_levels_numbers_when_all_are_java_ints(domain, want):
    info = _info(domain)
    codes = np.array(list(range(len(domain))) + [-1], dtype=np.int32)
    plan = plan_encoding("LabelEncoder", 10, info, {"g": codes}, info.columns, SerialComm())
    cols = {"g": codes, "x": np.zeros(codes.size)}
    encode_frame(plan, cols, info, "t.csv")
    np.testing.assert_array_equal(cols["g"], want + [np.nan])
    # new data in its own level order, an unseen level missing
    new_domain = (domain[-1], "zz", domain[0])
    new = {"g": np.array([0, 1, 2, -1], dtype=np.int32), "x": np.zeros(4)}
    encode_frame(plan, new, _info(new_domain), "new.csv")
    np.testing.assert_array_equal(new["g"], [want[-1], np.nan, want[0], np.nan])


def test_enum_limited_keeps_the_most_frequent_levels_seen_twice_and_other():
    train_info, train, new_info, new = _encode("EnumLimited", max_levels=3)
    # counts b 5, c 3, d 3, e 2, a 1: top 3 = b, c, d (c before d: equal counts, index order)
    col = train_info.column("g.top_3_levels")
    assert train_info.names == ("g.top_3_levels", "x")
    assert col.kind == "categorical" and col.domain == ("b", "c", "d", "other")
    want = {-1: -1, 0: 3, 1: 0, 2: 1, 3: 2, 4: 3}
    assert train["g.top_3_levels"].tolist() == [want[c] for c in TRAIN.tolist()]
    # f (a training level never seen) -> other, zz (unseen) -> other, b, a -> other, NA
    assert new["g.top_3_levels"].tolist() == [3, 3, 0, 3, -1]


def test_enum_limited_drops_levels_seen_once_and_leaves_small_columns_alone():
    train_info, train, _, _ = _encode("EnumLimited", max_levels=5)
    # five levels seen, but a only once: b, c, d, e kept, a becomes other
    assert train_info.column("g.top_5_levels").domain == ("b", "c", "d", "e", "other")
    info = _info(LEVELS)
    assert plan_encoding("EnumLimited", 6, info, {"g": TRAIN}, info.columns, SerialComm()) == []


def test_sort_by_response_orders_levels_by_the_weighted_mean_response():
    codes = np.array([0, 0, 1, 1, 2, 2, -1, 3])
    y = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, np.nan])
    w = np.array([1.0, 3.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0])
    # means: p 1/4, q 0, r 1, s no rows (0): ascending and stable -> q, s, p, r
    got = sorted_by_response(["p", "q", "r", "s"], codes, y, w, SerialComm())
    assert got == ["q", "s", "p", "r"]


ENCODINGS = ("Binary", "LabelEncoder", "EnumLimited", "SortByResponse")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_trains_on_adult_and_predicts_new_data(encoding, tmp_path):
    train, test = _adult_tables(tmp_path)
    job = tmp_path / "job.toml"
    job.write_text(f'training_frame = "{train}"\nresponse_column = "income"\n'
                   f'categorical_encoding = "{encoding}"\nhidden = [10]\nepochs = 3\n'
                   'seed = 7\nquiet_mode = true\nreproducible = true\n')
    r = mpidl("train", job, "-o", tmp_path / "m.h5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    d = read_model(tmp_path / "m.h5").dinfo
    assert sorted(d.predictors) == sorted(n for n in _header(train)
                                          if n not in ("income", "const"))
    if encoding == "Binary":      # occupation: 14 levels -> 4 bit columns, no categorical left
        assert d.cat_names == [] and "occupation:3" in d.num_names
    if encoding == "EnumLimited":  # native-country (> 10 levels) keeps its top 10 + other
        i = d.cat_names.index("native-country.top_10_levels")
        assert d.cat_domains[i][0] == "United-States" and d.cat_domains[i][-1] == "other"
    r = mpidl("predict", tmp_path / "m.h5", test, "-o", tmp_path / "p.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "'occupation' has 1 level(s) not trained on ('Astronaut')" in r.stderr
    with open(tmp_path / "p.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["predict", "<=50K", ">50K"] and len(rows) == 301
    p = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-6)
    truth = np.array([r[_header(test).index("income")].startswith(">50K") for r in _rows(test)])
    accuracy = np.mean((p[:, 1] > 0.5) == truth)
    assert accuracy > 1 - truth.mean(), accuracy   # beats always guessing "<=50K" (0.77)


def _header(path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def _rows(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))[1:]


def test_a_numeric_column_in_new_data_is_read_by_level_name():
    """As DataInfo reads any categorical: the number 2 is the level "2" (H2O's adaptation)."""
    info = TableInfo("t.csv", 0, (ColumnInfo("g", "categorical", ("1", "2", "x")),))
    plan = plan_encoding("LabelEncoder", 10, info, {}, info.columns, SerialComm())
    new = {"g": np.array([2.0, 5.0, np.nan, 1.0])}
    encode_frame(plan, new, TableInfo("n.csv", 0, (ColumnInfo("g", "numeric"),)), "n.csv")
    np.testing.assert_array_equal(new["g"], [1, np.nan, np.nan, 0])   # level indices
