"""Compact training rows held once per node (run under mpirun with pytest-mpi; a plain pytest
skips these).

A table of integer pixels (0..254, some missing) gives every rank uint8 rows with the missing
marker 255, in the node's shared memory (only the node's first rank read them, the others
take its form and values); their standardized values equal a hand transform of the file (mean,
sample sd, missing -> 0), and the model trained from them is bit for bit the model trained
from private float32 copies (``MPIDL_NODE_SHARED_DATA=0``, ``MPIDL_COMPACT_SHARD=0``).
"""

from __future__ import annotations

import numpy as np
import pytest
from memory_maps import in_shared_mapping

from mpidl.data.hdf5 import write_table
from mpidl.data.shard_numerics import CompactNumerics
from mpidl.params import validate
from mpidl.train.loop import Trainer, train

pytestmark = pytest.mark.timeout(300, method="thread")

NROWS = 157


def quiet(*args, **kw):
    pass


@pytest.fixture
def pixels(comm, shared_dir):
    """(table path, raw pixels float64[n, 3] with NaN): written by rank 0, the same on all."""
    rng = np.random.default_rng(7)
    raw = rng.integers(0, 255, (NROWS, 3)).astype(np.float64)
    raw[rng.random((NROWS, 3)) < 0.1] = np.nan
    y = rng.integers(0, 2, NROWS).astype(np.int32)
    path = shared_dir / "px.h5"
    if comm.is_root:
        write_table(path, {"p0": raw[:, 0], "p1": raw[:, 1], "p2": raw[:, 2], "y": y},
                    {"y": ["no", "yes"]})
    comm.barrier()
    return path, raw


def job(path, **extra):
    raw = dict(training_frame=str(path), response_column="y", hidden=[6], epochs=2, seed=4,
               train_samples_per_iteration=60, score_training_samples=0, **extra)
    return validate(raw, "test")


@pytest.mark.mpi
def test_node_shares_the_compact_rows(comm, everywhere, pixels, shared_dir, monkeypatch):
    path, raw = pixels
    monkeypatch.setenv("MPIDL_COMPACT_SHARD", "1")

    def body():
        t = Trainer(job(path), comm, 1, str(shared_dir / "m.h5"), "m", log=quiet)
        nums = t.shard.nums
        assert isinstance(nums, CompactNumerics)
        assert nums.raw.dtype == np.uint8 and nums.marker == 255
        z = (raw - np.nanmean(raw, axis=0)) / np.nanstd(raw, axis=0, ddof=1)
        np.testing.assert_allclose(nums.standardized(), np.where(np.isnan(z), 0.0, z),
                                   rtol=1e-6, atol=1e-6)
        node = comm.node_comm()
        assert in_shared_mapping(nums.raw) == (node.size > 1)
        return t
    everywhere(body).release()


@pytest.mark.mpi
def test_model_from_shared_compact_rows_equals_private_float32(comm, everywhere, pixels,
                                                               shared_dir, monkeypatch):
    bufs = {}
    for setting in ("1", "0"):
        monkeypatch.setenv("MPIDL_NODE_SHARED_DATA", setting)
        monkeypatch.setenv("MPIDL_COMPACT_SHARD", setting)
        model = train(job(pixels[0]), comm, 1, str(shared_dir / f"m{setting}.h5"), "m",
                      log=quiet)
        bufs[setting] = comm.bcast_obj(model.buf if comm.is_root else None)
    everywhere(lambda: np.testing.assert_array_equal(bufs["1"], bufs["0"]))
