"""Replicated training rows held once per node (run under mpirun with pytest-mpi; a plain pytest
skips these).

Each test runs on the real shared-memory split (every rank of ``mpirun -n N`` on this machine
is one node) and on pretend nodes of two consecutive ranks (``MPIDL_RANKS_PER_NODE=2``, set on
every rank alike).  The shared rows are checked against an independent read: plain h5py and
the documented transform (H2O's mean and sample sd, missing numerics at the mean, one-hot
slots with an NA slot per categorical); the model trained from them against the same run with
a private copy per rank (``MPIDL_NODE_SHARED_DATA=0``).
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from memory_maps import in_shared_mapping

from mpidl.data.hdf5 import write_table
from mpidl.params import validate
from mpidl.train.loop import Trainer, train

pytestmark = pytest.mark.timeout(300, method="thread")

NROWS = 203
DOMAINS = {"c": ["a", "b", "c"], "y": ["no", "yes"]}


def quiet(*args, **kw):
    pass


@pytest.fixture(params=[None, "2"], ids=["shared-split", "pretend-nodes-of-2"])
def per_node(request, monkeypatch):
    """``MPIDL_RANKS_PER_NODE`` for the test (None: the real shared-memory split)."""
    if request.param is None:
        monkeypatch.delenv("MPIDL_RANKS_PER_NODE", raising=False)
    else:
        monkeypatch.setenv("MPIDL_RANKS_PER_NODE", request.param)
    return None if request.param is None else int(request.param)


def expected_node(rank: int, size: int, per_node: int | None) -> tuple[int, int]:
    """(rank in node, node size): one machine is one node, or nodes of ``per_node`` ranks."""
    if per_node is None:
        return rank, size
    first = rank // per_node * per_node
    return rank - first, min(per_node, size - first)


@pytest.fixture
def table(comm, shared_dir):
    """A table with missing numerics, a categorical with missing codes and a response with a
    few missing values, written by rank 0."""
    path = shared_dir / "t.h5"
    if comm.is_root:
        rng = np.random.default_rng(20)
        x1 = rng.normal(3.0, 2.0, NROWS)
        x1[rng.random(NROWS) < 0.15] = np.nan
        x2 = rng.uniform(-5, 5, NROWS)
        c = rng.integers(-1, 3, NROWS).astype(np.int32)
        y = rng.integers(0, 2, NROWS).astype(np.int32)
        y[[3, 50, 99]] = -1
        write_table(path, {"x1": x1, "c": c, "x2": x2, "y": y}, DOMAINS)
    comm.barrier()
    return path


def reference_rows(path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nums, cats, y) by hand from the file: rows with a response, numerics standardized with
    the mean and sample sd of their present values (missing -> the mean -> 0), categorical
    slot = code, or 3 (after a, b, c) when missing."""
    with h5py.File(path, "r") as f:
        g = f["table"]
        cols = {g[k].attrs["name"]: g[k][()] for k in g}
    keep = cols["y"] >= 0
    nums = []
    for name in ("x1", "x2"):
        x = cols[name]
        mean, sd = np.nanmean(x), np.nanstd(x, ddof=1)
        nums.append((np.where(np.isnan(x), mean, x) - mean) / sd)
    cats = np.where(cols["c"] < 0, 3, cols["c"])[:, None]
    return (np.stack(nums, axis=1)[keep].astype(np.float32), cats[keep],
            cols["y"][keep].astype(np.float64))


def job(path, **extra):
    raw = dict(training_frame=str(path), response_column="y", hidden=[7], epochs=3, seed=11,
               train_samples_per_iteration=100, score_training_samples=0, **extra)
    return validate(raw, "test")


@pytest.mark.mpi
def test_node_comm_splits_by_node(comm, everywhere, per_node):
    """Node rank and size: the whole machine, or consecutive pairs of ranks."""
    def body():
        node = comm.node_comm()
        assert (node.rank, node.size) == expected_node(comm.rank, comm.size, per_node)
    everywhere(body)


@pytest.mark.mpi
def test_share_array_is_one_copy_in_memory(comm, everywhere, per_node):
    """Every rank of a node sees its first rank's values, and a write by the node's last
    rank is seen by the first: one copy in memory, not copies."""
    node = comm.node_comm()
    mine = np.arange(24, dtype=np.float64).reshape(4, 6) + 100 * comm.rank
    view = node.share_array(mine if node.rank == 0 else None)
    first = comm.rank - node.rank
    everywhere(lambda: np.testing.assert_array_equal(
        view, np.arange(24.0).reshape(4, 6) + 100 * first))
    node.barrier()
    if node.rank == node.size - 1:
        view[0, 0] = -1.0
    node.barrier()
    everywhere(lambda: np.testing.assert_array_equal(view[0, 0], -1.0))
    node.barrier()
    node.free_shared()


@pytest.mark.mpi
def test_shared_rows_equal_an_independent_read(comm, everywhere, table, shared_dir, per_node):
    """Every rank's training rows are the file's rows transformed by hand; only the node's
    first rank read them, and every rank holds them in shared memory (a private copy on a node
of one rank)."""
    def body():
        t = Trainer(job(table), comm, 1, str(shared_dir / "m.h5"), "m", log=quiet)
        nums, cats, y = reference_rows(table)
        np.testing.assert_allclose(t.shard.nums, nums, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(t.shard.cats, cats)
        np.testing.assert_array_equal(t.shard.y, y)
        np.testing.assert_array_equal(t.shard.w, np.ones(y.size))
        assert t.rows == y.size
        node = comm.node_comm()
        # bytes read from the file (data/counted.py): the rows on the node's first rank only;
        # the others open the table (its header and column attributes) and read no row
        lead = node.bcast_obj(t.read_bytes)
        if node.rank > 0:
            with h5py.File(table, "r") as f:
                rows_on_disk = []
                f.visititems(lambda _, o: rows_on_disk.append(o.id.get_storage_size())
                             if isinstance(o, h5py.Dataset) else None)
            assert t.read_bytes <= lead - 0.9 * sum(rows_on_disk), (t.read_bytes, lead)
        for arr in (t.shard.nums, t.shard.cats, t.shard.y, t.shard.w):
            assert in_shared_mapping(arr) == (node.size > 1)
        return t
    t = everywhere(body)
    t.release()


@pytest.mark.mpi
def test_model_from_shared_rows_equals_private_copies(comm, everywhere, table, shared_dir,
                                                      per_node, monkeypatch):
    """One thread per rank, a fixed number of rows per iteration: the model trained from the
    node's shared rows is bit for bit the one trained from a private copy per rank."""
    bufs = {}
    for setting in ("1", "0"):
        monkeypatch.setenv("MPIDL_NODE_SHARED_DATA", setting)
        model = train(job(table), comm, 1, str(shared_dir / f"m{setting}.h5"), "m", log=quiet)
        bufs[setting] = comm.bcast_obj(model.buf if comm.is_root else None)
    everywhere(lambda: np.testing.assert_array_equal(bufs["1"], bufs["0"]))
