"""A training shard read from a table takes its compact type from the table's storage types
(data/shard_numerics.py): the smallest type holding every column's stored type, chosen without
a second pass over the values; the stored types are those h5py reports for the file."""

import h5py
import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data import shard_numerics
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import write_table
from mpidl.data.shard_numerics import CompactNumerics
from mpidl.params import validate
from mpidl.train.loop import train
from mpidl.train.row_cache import RowCache

N = 40


def _table(tmp_path, columns: dict) -> str:
    """A table of ``columns`` (numerics, NaN = missing) and a two-level response."""
    cols = dict(columns, y=(np.arange(N) % 2).astype(np.int32))
    path = str(tmp_path / "t.h5")
    write_table(path, cols, {"y": ["a", "b"]})
    return path


def _h5_types(path: str) -> dict:
    """{column name: (dtype, missing marker or None)} as the file itself holds them."""
    with h5py.File(path) as f:
        group = f["table"]
        return {group[k].attrs["name"]: (group[k].dtype, group[k].attrs.get("missing"))
                for k in group if "domain" not in group[k].attrs}


def _shard_nums(path, tmp_path):
    """The numerics of the training shard of a one-rank model on ``path``."""
    params = validate({"training_frame": path, "response_column": "y", "hidden": [3],
                       "epochs": 1, "seed": 1, "reproducible": True}, "test")
    rows = RowCache()
    train(params, SerialComm(), 1, str(tmp_path / "m.h5"), "m", log=lambda *a, **k: None,
          rows=rows)
    return rows.entry.shard.nums


def test_the_frame_reports_the_tables_stored_types(tmp_path):
    rng = np.random.default_rng(0)
    with_missing = rng.integers(0, 100, N).astype(float)
    with_missing[3] = np.nan
    path = _table(tmp_path, {"u8": rng.integers(0, 256, N).astype(float),
                             "i8m": with_missing - 50, "f": rng.normal(size=N)})
    frame = Frame(path)
    frame.read(["u8", "i8m", "f", "y"])
    assert frame.stored_types == {name: (dtype, None if marker is None else int(marker))
                                  for name, (dtype, marker) in _h5_types(path).items()}
    assert frame.stored_types["u8"] == (np.dtype(np.uint8), None)
    assert frame.stored_types["i8m"] == (np.dtype(np.int8), -128)


@pytest.mark.parametrize("columns,dtype,marker", [
    ({"a": np.arange(N) % 256, "b": np.arange(N) % 7}, np.uint8, None),
    ({"a": np.arange(N) % 256, "b": np.arange(N) - 20}, np.int16, None),   # uint8 and int8
    ({"a": np.arange(N) * 1000.0, "b": np.arange(N) % 3}, np.int32, None),  # int32, uint8
    ({"a": np.where(np.arange(N) == 5, np.nan, np.arange(N)),
      "b": np.where(np.arange(N) == 9, np.nan, np.arange(N) % 9)}, np.uint8, 255),
    # uint8 with a marker (0..254) and uint8 without (0..255): int16, though the values fit
    # uint8 with its marker (the stored types, not the values, decide)
    ({"a": np.where(np.arange(N) == 5, np.nan, np.arange(N)), "b": np.arange(N) % 9},
     np.int16, -32768),
])
def test_the_shard_type_is_the_smallest_holding_the_stored_types(tmp_path, monkeypatch,
                                                                 columns, dtype, marker):
    def no_second_pass(*a, **k):
        raise AssertionError("an integer-stored column was summarized again")
    monkeypatch.setattr(shard_numerics, "summarize", no_second_pass)
    path = _table(tmp_path, {k: np.asarray(v, dtype=float) for k, v in columns.items()})
    nums = _shard_nums(path, tmp_path)
    assert isinstance(nums, CompactNumerics)
    assert nums.raw.dtype == dtype and nums.marker == marker
    for j, name in enumerate(("a", "b")):
        x = np.asarray(columns[name], dtype=float)
        np.testing.assert_array_equal(nums.raw[:, j], np.where(np.isnan(x), marker or 0, x))


def test_a_float_stored_column_gives_a_float_shard(tmp_path):
    path = _table(tmp_path, {"a": np.arange(N) % 5, "f": np.linspace(0, 1, N)})
    nums = _shard_nums(path, tmp_path)
    assert not isinstance(nums, CompactNumerics) and nums.dtype == np.float32


def test_a_csv_frame_still_summarizes_its_values(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "".join(f"{i % 200},{i % 7 - 3},{'ab'[i % 2]}\n"
                                        for i in range(N)))
    seen = []
    summarize = shard_numerics.summarize
    monkeypatch.setattr(shard_numerics, "summarize",
                        lambda values, **kw: seen.append(1) or summarize(values, **kw))
    nums = _shard_nums(str(path), tmp_path)
    assert len(seen) == 2 and nums.raw.dtype == np.int8      # the values: 0..39 and -3..3
