"""Adversarial cases of the streaming and parallel import: a ragged row, a NUL byte and a
damaged gzip found in a block after the first, on one rank and under mpirun (one line naming
the file and the line, exit 2, no table, the old one untouched); a column whose type changes
after the first block is not an error (the type is decided over all blocks)."""

import gzip
import os

import pytest
from harness import completed, fingerprint, refused, run

from mpidl.data.hdf5 import read_info

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

SMALL_BLOCKS = dict(os.environ, MPIDL_IMPORT_BLOCK_MB="0.001")   # 1 KiB blocks


def _rows(n: int = 400, start: int = 0) -> str:
    return "".join(f"{k},{k * 0.25},w{k % 5}\n" for k in range(start, start + n))


def _old_table(tmp_path):
    (tmp_path / "t.h5").write_bytes(b"the old table")
    return fingerprint([tmp_path / "t.h5"])


@pytest.mark.parametrize("ranks", [None, 2])
def test_ragged_row_in_a_later_block(tmp_path, ranks):
    """A row with a field too many, 300 lines into the file (past the first 1 KiB block and
    in rank 1's range): its line, on one line, on every rank."""
    (tmp_path / "r.csv").write_text("a,b,c\n" + _rows(299) + "1,2,3,4\n" + _rows(100, 299))
    old = _old_table(tmp_path)
    refused(run(["import", "r.csv", "-o", "t.h5"], cwd=tmp_path, ranks=ranks, env=SMALL_BLOCKS),
            "r.csv", "line 301 has 4 fields, expected 3", untouched=old)


@pytest.mark.parametrize("ranks", [None, 2])
def test_nul_byte_in_a_later_block(tmp_path, ranks):
    """A NUL byte on line 350 of a file read in 1 KiB blocks: named with its line."""
    text = "a,b,c\n" + _rows(348) + "1,x\0y,z\n" + _rows(50)
    (tmp_path / "n.csv").write_bytes(text.encode())
    old = _old_table(tmp_path)
    refused(run(["import", "n.csv", "-o", "t.h5"], cwd=tmp_path, ranks=ranks, env=SMALL_BLOCKS),
            "n.csv", "line 350", "NUL", untouched=old)


@pytest.mark.parametrize("ranks", [None, 2])
def test_gzip_damaged_after_its_first_block(tmp_path, ranks):
    """A gzip whose compressed stream is cut short: "cannot read", no table."""
    packed = gzip.compress(("a,b,c\n" + _rows(20000)).encode())
    (tmp_path / "cut.csv.gz").write_bytes(packed[: len(packed) // 2])
    refused(run(["import", "cut.csv.gz", "-o", "t.h5"], cwd=tmp_path, ranks=ranks,
                env=SMALL_BLOCKS), "cut.csv.gz", "cannot read")
    assert not (tmp_path / "t.h5").exists()


@pytest.mark.parametrize("ranks", [None, 2])
def test_directory_as_input(tmp_path, ranks):
    """A folder where the CSV should be: one line, exit 2, on every rank."""
    (tmp_path / "d.csv").mkdir()
    refused(run(["import", "d.csv", "-o", "t.h5"], cwd=tmp_path, ranks=ranks), "d.csv",
            "directory")


@pytest.mark.parametrize("ranks", [None, 2])
def test_type_change_after_the_first_block_is_decided_over_all_rows(tmp_path, ranks):
    """Numbers in the first blocks, strings (the majority) after them: not an error; the column
    is categorical, as when the whole file is read at once."""
    text = "a,b\n" + "".join(f"{k},{k % 7}\n" for k in range(200)) + \
        "".join(f"{k},s{k % 3}\n" for k in range(200, 800))
    (tmp_path / "c.csv").write_text(text)
    proc = run(["import", "c.csv", "-o", "t.h5"], cwd=tmp_path, ranks=ranks, env=SMALL_BLOCKS)
    completed(proc)
    column = read_info(tmp_path / "t.h5").column("b")
    assert column.kind == "categorical"
    assert column.domain == tuple(sorted([str(k) for k in range(7)] + ["s0", "s1", "s2"]))


@pytest.mark.parametrize("value", ["lots", "-1", "0"])
def test_bad_block_size_setting(tmp_path, value):
    """MPIDL_IMPORT_BLOCK_MB that is not a size: named on one line."""
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n")
    env = dict(os.environ, MPIDL_IMPORT_BLOCK_MB=value)
    refused(run(["import", "ok.csv", "-o", "t.h5"], cwd=tmp_path, env=env),
            "MPIDL_IMPORT_BLOCK_MB")
