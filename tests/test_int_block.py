"""Blocks of plain integers parsed without pandas (``data/int_block.py``), and the table built
in memory when it is small (``stream_import.in_memory``): hand-checked values, the fields
that send a block back to pandas, and imports that equal the in-memory importer's table
(the reference of ``test_stream_import``) whichever path each block and the table took."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_stream_import import assert_same_table, reference

from mpidl.data import csv_blocks, stream_import
from mpidl.data.int_block import parse_integers
from mpidl.data.stream_import import import_table


def test_hand_checked_block():
    block = b"1,-2,003\n\n40,5,-0\r\n7,8,123456789012345678"
    got = parse_integers(block, ",", 3)
    assert got.dtype == np.int64 and got.shape == (3, 3)
    assert got.tolist() == [[1, 40, 7], [-2, 5, 8], [3, 0, 123456789012345678]]
    assert parse_integers(b"5\n6\n", ",", 1).tolist() == [[5, 6]]
    assert parse_integers(b"5;6\n", ";", 2).tolist() == [[5], [6]]


def test_pieces_outlive_the_reused_buffer():
    """parse_integers reuses one buffer per thread: the Pieces of a block must still hold its
    values after the next blocks (more rows, fewer rows, other columns) are parsed."""
    layout = type("L", (), {"ncols": 2, "sep": ","})()
    first, _ = csv_blocks.block_pieces(b"1,200\n3,4\n", layout, "utf-8", set(), [0, 1])
    csv_blocks.block_pieces(b"9,9\n" * 50, layout, "utf-8", set(), [0, 1])
    assert parse_integers(b"7,7,7\n", ",", 3).tolist() == [[7], [7], [7]]
    assert parse_integers(b"5,6\n", ",", 2).tolist() == [[5], [6]]
    assert first[0].values().tolist() == [1, 3] and first[1].values().tolist() == [200, 4]


@pytest.mark.parametrize("block", [
    b"1, 2,3\n",       # a space (pandas strips it)
    b"1,,3\n",         # a missing value
    b"1.5,2,3\n",      # a decimal number
    b"1e3,2,3\n",      # an exponent
    b"+1,2,3\n",       # a plus sign
    b'"1",2,3\n',      # a quoted field
    b"1,2\n",          # too few fields
    b"1,2,3,4\n",      # too many
    b"-,2,3\n",        # a sign alone
    b"1-2,2,3\n",      # a sign inside
    b"--1,2,3\n",
    b"1234567890123456789,2,3\n",   # 19 digits: may not fit int64
    b"1,2,3\rx\n",     # a carriage return not before a newline
    b"1,2,3\n4,5,",    # a last record ending in an empty field
])
def test_anything_else_goes_to_pandas(block):
    assert parse_integers(block, ",", 3) is None


def _integer_csv(path, late: bytes = b"") -> str:
    """A headed CSV of integer columns (uint8, negative int8, int16, int32, a big int64 and a
    label), a first row of signed zeros and leading zeros, 3,000 random rows, and ``late`` as
    the last record (a field that is not plain)."""
    rng = np.random.default_rng(3)
    n = 3000
    cols = [rng.integers(0, 256, n), rng.integers(-100, 100, n), rng.integers(-3000, 3000, n),
            rng.integers(0, 10**7, n), rng.integers(-10**15, 10**15, n), rng.integers(0, 10, n)]
    lines = [b"a,b,c,d,e,label", b"-0,007,-00,0,-000000000000000001,3"] + \
        [",".join(str(c[i]) for c in cols).encode() for i in range(n)]
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n" + late)
    return str(path)


@pytest.mark.parametrize("late", [b"", b"7, 8,9,10,11,2\n", b"7,,9,10,11.5,2\n"])
@pytest.mark.parametrize("block", [1000, 1 << 20])
def test_integer_import_equals_in_memory(tmp_path, late, block):
    src = _integer_csv(tmp_path / "i.csv", late)
    reference(src, tmp_path / "ref.h5", categorical=["label"])
    import_table(src, tmp_path / "s.h5", categorical=["label"], block_bytes=block)
    assert_same_table(tmp_path / "ref.h5", tmp_path / "s.h5")


def test_plain_integer_blocks_skip_pandas(tmp_path, monkeypatch):
    src = _integer_csv(tmp_path / "i.csv")
    reference(src, tmp_path / "ref.h5")

    def refused(*args, **kwargs):
        raise AssertionError("pandas parsed a block of plain integers")

    monkeypatch.setattr(csv_blocks, "parse_block", refused)
    import_table(src, tmp_path / "s.h5", block_bytes=4000)
    assert_same_table(tmp_path / "ref.h5", tmp_path / "s.h5")


@pytest.mark.parametrize("limit", [0, 1 << 30])
def test_table_in_memory_or_in_the_file(tmp_path, monkeypatch, limit):
    src = _integer_csv(tmp_path / "i.csv", b"7,,9,10,11.5,2\n")
    reference(src, tmp_path / "ref.h5")
    monkeypatch.setattr(stream_import, "MEMORY_TABLE_BYTES", limit)
    import_table(src, tmp_path / "s.h5", block_bytes=5000)
    assert_same_table(tmp_path / "ref.h5", tmp_path / "s.h5")


def test_an_integer_file_is_imported_without_pandas(tmp_path):
    """pandas costs 0.15-0.3 s to import: a file of plain integers (MNIST) never needs it."""
    src = tmp_path / "ints.csv"
    src.write_text("a,b\n" + "".join(f"{k},{k % 10}\n" for k in range(100)))
    code = ("import sys; from mpidl.data.importer import import_csv; "
            f"import_csv({str(src)!r}, {str(tmp_path / 't.h5')!r}); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
