"""A rank of a sharded run reads about its share of the table's bytes, and the "data read"
figure is those bytes (run under mpirun with pytest-mpi, e.g. -n 4; a plain pytest skips).

The table is MNIST's shape on a smaller scale: 60,000 rows of one-byte pixels and a label.
The independent count is the kernel's: ``rchar`` of /proc/self/io, the bytes the process's
read system calls returned.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from mpidl.data.frame import Frame
from mpidl.data.hdf5 import block_range, write_table
from mpidl.params import validate
from mpidl.train.loop import Trainer

pytestmark = pytest.mark.timeout(300, method="thread")

ROWS, PIXELS = 60_000, 60


def _pixels() -> dict[str, np.ndarray]:
    """MNIST-like columns: mostly zeros, the rest 1..255 (uint8 on disk), and a 0..9 label."""
    rng = np.random.default_rng(7)
    cols = {}
    for j in range(PIXELS):
        ink = rng.random(ROWS) < 0.2
        cols[f"C{j + 1}"] = np.where(ink, rng.integers(1, 256, ROWS), 0).astype(np.float64)
    cols["label"] = (np.arange(ROWS) % 10).astype(np.int64)
    return cols


def _table(comm, shared_dir) -> tuple[str, dict[str, np.ndarray]]:
    path = str(shared_dir / "pixels.h5")
    cols = _pixels()
    if comm.is_root:
        write_table(path, cols, {"label": [str(d) for d in range(10)]})
    comm.barrier()
    return path, cols


def _rchar() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


def _share_bound(size: int) -> float:
    """At most the rank's share of the rows plus 5 % of the file (chunk edges, metadata);
    0.30 at 4 ranks, the bound the issue asks for."""
    return 1 / size + 0.05


@pytest.mark.mpi
def test_a_rank_reads_its_share_counted_as_the_kernel_counts(comm, shared_dir, everywhere):
    path, cols = _table(comm, shared_dir)
    size = os.path.getsize(path)

    def body():
        frame = Frame(path, comm.size)
        lo, hi = block_range(ROWS, comm.size, comm.rank)
        before_bytes, before_rchar = frame.bytes_read, _rchar()
        got = frame.read(list(cols), lo, hi)
        read, rchar = frame.bytes_read - before_bytes, _rchar() - before_rchar
        assert read <= rchar <= read + 4096, (read, rchar)   # + the /proc read itself
        assert frame.bytes_read <= _share_bound(comm.size) * size, (frame.bytes_read, size)
        for name, values in cols.items():
            np.testing.assert_array_equal(got[name], values[lo:hi])
    everywhere(body)


@pytest.mark.mpi
def test_training_reports_the_bytes_read(comm, shared_dir, everywhere):
    """replicate_training_data = false: the run's "data read" is this rank's counted bytes,
    within its share of the file."""
    path, _ = _table(comm, shared_dir)
    size = os.path.getsize(path)

    def body():
        raw = dict(training_frame=path, response_column="label", hidden=[4], epochs=0.01,
                   replicate_training_data=False, seed=1, score_training_samples=100)
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "m.h5"), "m",
                    log=lambda *a, **k: None)
        lo, hi = block_range(ROWS, comm.size, comm.rank)
        assert t.shard.n == hi - lo
        payload = (hi - lo) * (PIXELS + 1)           # one byte per pixel and label value
        assert payload <= t.read_bytes <= _share_bound(comm.size) * size, (t.read_bytes, size)
    everywhere(body)
