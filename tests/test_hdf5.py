"""The columnar HDF5 table format (mpidl.data.hdf5)."""

import os

import h5py
import numpy as np
import pytest

from mpidl.data import hdf5
from mpidl.data.hdf5 import (ColumnInfo, block_range, read_columns, read_info, write_rows,
                              write_table)
from mpidl.data.counted import ReadCount
from mpidl.errors import UserError


def _table(n=10):
    rng = np.random.default_rng(0)
    num = rng.normal(size=n)
    num[[1, 7]] = np.nan
    codes = rng.integers(-1, 3, size=n).astype(np.int32)
    ints = np.arange(n, dtype=np.int64)  # stored as uint8
    columns = {"sepal width": num, "Dep/Time,x": codes, "C3": ints}
    domains = {"Dep/Time,x": ["a", "b b", "ü"]}
    return columns, domains


def test_round_trip_numeric_categorical_missing(tmp_path):
    path = tmp_path / "t.h5"
    columns, domains = _table()
    write_table(path, columns, domains)
    info = read_info(path)
    assert info.path == str(path)
    assert info.nrows == 10
    assert info.names == ("sepal width", "Dep/Time,x", "C3")
    assert info.column("sepal width") == ColumnInfo("sepal width", "numeric", None)
    assert info.column("Dep/Time,x") == ColumnInfo("Dep/Time,x", "categorical", ("a", "b b", "ü"))
    got = read_columns(path, info.names)
    assert got["sepal width"].dtype == np.float64
    np.testing.assert_array_equal(got["sepal width"], columns["sepal width"])  # NaN == NaN
    assert got["Dep/Time,x"].dtype == np.int32
    np.testing.assert_array_equal(got["Dep/Time,x"], columns["Dep/Time,x"])
    assert got["C3"].dtype == np.float64
    np.testing.assert_array_equal(got["C3"], np.arange(10.0))


def test_layout_on_disk(tmp_path):
    path = tmp_path / "t.h5"
    write_table(path, *_table(100))
    with h5py.File(path, "r") as f:
        g = f[hdf5.GROUP]
        assert int(g.attrs["nrows"]) == 100
        assert list(g.attrs["columns"]) == ["sepal width", "Dep/Time,x", "C3"]
        assert g["c0000"].dtype == np.float64 and g["c0000"].chunks is not None
        assert g["c0001"].dtype == np.int8      # 3 levels and -1: the smallest code type
        assert list(g["c0001"].attrs["domain"]) == ["a", "b b", "ü"]
        assert "domain" not in g["c0002"].attrs
        assert g["c0002"].dtype == np.uint8     # 0..99: integers in one byte
        assert g["c0000"].compression is None


def test_column_lookup_error_names_path_and_column(tmp_path):
    path = tmp_path / "t.h5"
    write_table(path, *_table())
    with pytest.raises(UserError, match=r"t\.h5: no column 'nope'"):
        read_info(path).column("nope")
    with pytest.raises(UserError, match="no column 'nope'"):
        read_columns(path, ["nope"])


def test_row_range_reads(tmp_path):
    path = tmp_path / "t.h5"
    n = 1001
    columns = {"x": np.arange(n, dtype=np.float64), "k": (np.arange(n) % 4).astype(np.int32)}
    write_table(path, columns, {"k": ["0", "1", "2", "3"]})
    for start, stop in [(0, 1), (0, n), (5, 6), (500, 1001), (1000, 1001), (7, 7), (333, 667)]:
        got = read_columns(path, ["k", "x"], start, stop)
        np.testing.assert_array_equal(got["x"], columns["x"][start:stop])
        np.testing.assert_array_equal(got["k"], columns["k"][start:stop])
    np.testing.assert_array_equal(read_columns(path, ["x"], 990)["x"], columns["x"][990:])
    with pytest.raises(ValueError):
        read_columns(path, ["x"], 10, n + 1)


def test_read_uses_hyperslabs(tmp_path):
    """read_columns reads each column's row slice only: 10 rows of a 1,000,000-row column
    (4 MB stored as int32, 128 or more chunks of at most 1 MiB) cost a chunk or two, not the
    column, and the values are those rows."""
    path = tmp_path / "t.h5"
    write_table(path, {"x": np.arange(1_000_000.0), "c": np.arange(1_000_000) % 3},
                {"c": ["a", "b", "c"]})
    count = ReadCount()
    got = read_columns(path, ["x", "c"], 500_000, 500_010, count=count)
    assert got["x"].tolist() == list(range(500_000, 500_010))
    assert got["c"].tolist() == [i % 3 for i in range(500_000, 500_010)]
    assert got["c"].dtype == np.int32
    assert count.bytes < 2**18


@pytest.mark.parametrize("nrows", [0, 1, 2, 7, 13, 100, 1001])
def test_block_range_covers_every_row_once(nrows):
    for size in range(1, 8):
        ranges = [block_range(nrows, size, r) for r in range(size)]
        assert ranges[0][0] == 0 and ranges[-1][1] == nrows
        for (a0, a1), (b0, _) in zip(ranges, ranges[1:]):
            assert a1 == b0
        lengths = [b - a for a, b in ranges]
        assert sum(lengths) == nrows
        assert max(lengths) - min(lengths) <= 1
        assert lengths == sorted(lengths, reverse=True)  # the first nrows % size get one more


def test_block_range_bad_arguments():
    with pytest.raises(ValueError):
        block_range(10, 0, 0)
    with pytest.raises(ValueError):
        block_range(10, 2, 2)


def test_read_info_missing_file(tmp_path):
    path = tmp_path / "absent.h5"
    with pytest.raises(UserError, match="absent.h5: no such file"):
        read_info(path)


def test_read_info_not_hdf5(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(UserError) as err:
        read_info(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    assert "not an HDF5 file" in message


def test_read_info_hdf5_without_table(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(UserError, match=r"other\.h5: not an mpidl HDF5 table"):
        read_info(path)
    with pytest.raises(UserError, match="not an mpidl HDF5 table"):
        read_columns(path, ["x"])


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "t.h5"
    write_table(path, *_table())
    assert sorted(os.listdir(tmp_path)) == ["t.h5"]
    before = path.read_bytes()
    # a failure mid-write (second column is bad) leaves the old file as it was
    with pytest.raises(ValueError):
        write_table(path, {"ok": np.arange(10.0), "bad": np.arange(10)}, {"bad": ["only"]})
    assert sorted(os.listdir(tmp_path)) == ["t.h5"]
    assert path.read_bytes() == before


def test_failed_write_leaves_no_destination(tmp_path, monkeypatch):
    path = tmp_path / "new.h5"
    calls = []
    original = hdf5._write_column

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return original(*args, **kwargs)

    monkeypatch.setattr(hdf5, "_write_column", crash)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_table(path, *_table())
    assert os.listdir(tmp_path) == []


def test_large_domain_and_odd_names(tmp_path):
    path = tmp_path / "t.h5"
    levels = [f"level {i:05d} / x" for i in range(20000)]  # > 64 KiB of attribute
    codes = np.arange(20000, dtype=np.int32)
    write_table(path, {"": codes, "a/b": np.zeros(20000)}, {"": levels})
    info = read_info(path)
    assert info.names == ("", "a/b")
    assert info.columns[0].domain == tuple(levels)


def test_empty_domain_and_zero_rows(tmp_path):
    path = tmp_path / "t.h5"
    write_table(path, {"e": np.zeros(0, dtype=np.int32), "x": np.zeros(0)}, {"e": []})
    info = read_info(path)
    assert info.nrows == 0 and info.column("e").domain == ()
    assert read_columns(path, ["e"])["e"].shape == (0,)


def test_write_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="different lengths"):
        write_table(tmp_path / "t.h5", {"a": np.zeros(3), "b": np.zeros(4)}, {})
    with pytest.raises(ValueError, match="unknown columns"):
        write_table(tmp_path / "t.h5", {"a": np.zeros(3)}, {"b": ["x"]})
    assert os.listdir(tmp_path) == []


def test_write_rows_puts_values_at_their_rows(tmp_path):
    """HDF5's own write for numbers of the dataset's type, h5py's slicing otherwise; rows
    outside the span keep their values (checked against numpy assignment)."""
    with h5py.File(tmp_path / "w.h5", "w") as f:
        want = {"u8": np.zeros(10, np.uint8), "f4": np.full(10, -1, np.float32)}
        for name, base in want.items():
            f.create_dataset(name, data=base, chunks=(4,))
        write_rows(f["u8"], np.array([7, 8, 9], np.uint8), 3)
        write_rows(f["f4"], np.array([0.5, 1.5], np.float64), 8)     # another type: slicing
        write_rows(f["u8"], np.array([], np.uint8), 0)
        want["u8"][3:6] = [7, 8, 9]
        want["f4"][8:10] = [0.5, 1.5]
        for name, values in want.items():
            np.testing.assert_array_equal(f[name][()], values)
