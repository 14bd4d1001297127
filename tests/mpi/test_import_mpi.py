"""A parallel import (every rank parses its byte range) writes the table one rank writes.

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_import_mpi.py``
(N = 2, 3, 4, ...); a plain ``pytest`` skips these.  Rank 0 also imports each file alone
(``SerialComm``), the reference; the files are small and the blocks smaller, so every rank
reads several blocks and the split points fall inside records and quoted fields.
"""

from __future__ import annotations

import gzip

import pytest
from import_inputs import FORCED_CATEGORICAL, long_quoted_csv, stray_quote_csv, tricky_csv
from test_stream_import import assert_same_table

from mpidl.comm import SerialComm
from mpidl.errors import UserError
from mpidl.data.stream_import import import_table

pytestmark = pytest.mark.timeout(180, method="thread")


def _both(comm, everywhere, shared_dir, make, block: int, **kw) -> None:
    src = shared_dir / "in.csv"
    if comm.is_root:
        make(src)
    comm.barrier()
    import_table(src, shared_dir / "n.h5", comm, block_bytes=block, **kw)

    def check():
        if comm.is_root:
            import_table(src, shared_dir / "one.h5", SerialComm(), block_bytes=block, **kw)
            assert_same_table(shared_dir / "one.h5", shared_dir / "n.h5")
    everywhere(check)


@pytest.mark.mpi(min_size=2)
@pytest.mark.parametrize("block", [53, 4096])
def test_parallel_import_equals_one_rank(comm, everywhere, shared_dir, block):
    _both(comm, everywhere, shared_dir, tricky_csv, block, categorical=FORCED_CATEGORICAL)


@pytest.mark.mpi(min_size=2)
def test_split_inside_a_quoted_field_with_newlines(comm, everywhere, shared_dir):
    _both(comm, everywhere, shared_dir, long_quoted_csv, 300)


@pytest.mark.mpi(min_size=2)
def test_stray_quote_falls_back_to_rank_0(comm, everywhere, shared_dir):
    _both(comm, everywhere, shared_dir, stray_quote_csv, 100)


@pytest.mark.mpi(min_size=2)
def test_ragged_row_late_in_the_file_is_the_same_error_on_every_rank(comm, everywhere,
                                                                      shared_dir):
    src = shared_dir / "bad.csv"
    if comm.is_root:
        text = tricky_csv(shared_dir / "ok.csv").read_text()
        cut = text.rindex("\n", 0, len(text) * 9 // 10) + 1
        src.write_text(text[:cut] + "1,2,3\n" + text[cut:])
    comm.barrier()
    with pytest.raises(UserError) as err:
        import_table(src, shared_dir / "n.h5", comm, block_bytes=64)
    messages = comm.allgather_obj(str(err.value))

    def check():
        line = 1 + src.read_text()[:src.read_text().index("1,2,3\n")].count("\n")
        assert messages == [messages[0]] * comm.size
        assert messages[0] == f"{src}: line {line} has 3 fields, expected 9 (as on the first line)"
        assert getattr(err.value, "agreed", False)
        assert not (shared_dir / "n.h5").exists()
    everywhere(check)


@pytest.mark.mpi(min_size=2)
def test_gzip_is_decompressed_once_and_split(comm, everywhere, shared_dir):
    def gzipped(path):
        raw = tricky_csv(shared_dir / "plain.csv").read_bytes()
        path.write_bytes(gzip.compress(raw))
    _both(comm, everywhere, shared_dir, gzipped, 97, categorical=FORCED_CATEGORICAL)

    def no_temporary_left():
        assert sorted(p.name for p in shared_dir.iterdir()) == ["in.csv", "n.h5", "one.h5",
                                                               "plain.csv"]
    everywhere(no_temporary_left)
