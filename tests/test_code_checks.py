"""Categorical codes are checked when a table is read, and again before the kernels see them."""

import h5py
import numpy as np
import pytest

from mpidl.data.datainfo import DataInfo
from mpidl.data.hdf5 import ColumnInfo, TableInfo, read_columns, write_table
from mpidl.errors import UserError


def _damaged(path, codes):
    write_table(path, {"c": np.zeros(len(codes), dtype=np.int32)}, {"c": ["a", "b", "c"]})
    with h5py.File(path, "a") as f:
        f["table"]["c0000"][...] = codes


@pytest.mark.parametrize("codes,bad", [([0, 1, 3, 2], "3"), ([-1, -2, 0, 0], "-2")])
def test_read_refuses_codes_outside_the_levels(tmp_path, codes, bad):
    _damaged(tmp_path / "t.h5", codes)
    with pytest.raises(UserError, match=rf"t\.h5: .*'c' has code {bad} outside its 3 levels"):
        read_columns(tmp_path / "t.h5", ["c"])
    # a row range without the bad code reads fine: [-1, 3) is the rule, not the whole column
    good = [i for i, c in enumerate(codes) if -1 <= c < 3]
    assert read_columns(tmp_path / "t.h5", ["c"], good[0], good[0] + 1)["c"].tolist() == \
        [codes[good[0]]]


def test_read_refuses_a_column_shorter_than_the_table(tmp_path):
    write_table(tmp_path / "t.h5", {"a": np.arange(5.0)}, {})
    with h5py.File(tmp_path / "t.h5", "a") as f:
        del f["table"]["c0000"]
        f["table"].create_dataset("c0000", data=np.arange(3.0))
    with pytest.raises(UserError, match=r"t\.h5: damaged table, column 'a'"):
        read_columns(tmp_path / "t.h5", ["a"])


def test_transform_never_hands_the_kernels_an_unchecked_slot():
    d = DataInfo(response="y", response_domain=["n", "p"], resp_sub=0.0, resp_mul=1.0,
                 cat_names=["c"], cat_domains=[["a", "b", "c"]], num_names=[], num_sub=[],
                 num_mul=[], num_fill=[], use_all_levels=True, weights_column=None,
                 skip_missing=False)
    info = TableInfo("t.h5", 2, (ColumnInfo("c", "categorical", ("a", "b", "c")),
                                 ColumnInfo("y", "categorical", ("n", "p"))))
    with pytest.raises(RuntimeError, match="categorical slot"):
        d.transform({"c": np.array([0, 7], dtype=np.int32), "y": np.array([0, 1])}, info,
                    "t.h5", training=True)
    with pytest.raises(RuntimeError, match="class index"):
        d.transform({"c": np.array([0, 1], dtype=np.int32), "y": np.array([0, 5])}, info,
                    "t.h5", training=True)
