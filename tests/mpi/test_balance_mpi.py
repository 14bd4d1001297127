"""balance_classes on sharded rows: the class counts come from one allreduce, so the global
sampled counts and the two class distributions are those of the whole frame, whatever the
rank count.  The expected values are computed with numpy from the whole frame, regenerated
from the seed on every rank.
Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_balance_mpi.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mpidl.data.hdf5 import block_range
from mpidl.train.balance import balance_shard
from mpidl.train.setup import Shard

pytestmark = pytest.mark.timeout(120, method="thread")

NROWS = 1001                       # uneven shards for 2, 3 and 4 ranks
LEVELS = ["a", "b", "c"]


def _whole_y() -> np.ndarray:
    return np.random.default_rng(7).choice(3, size=NROWS, p=[0.8, 0.15, 0.05]).astype(float)


def _my_shard(comm, replicated: bool) -> Shard:
    y = _whole_y()
    lo, hi = (0, NROWS) if replicated else block_range(NROWS, comm.size, comm.rank)
    n = hi - lo
    return Shard(np.arange(lo, hi, dtype=np.float32)[:, None], np.zeros((n, 0), np.int32),
                 y[lo:hi], np.ones(n), lo, np.arange(n, dtype=np.int64))


def _model(factors):
    return SimpleNamespace(
        params=SimpleNamespace(class_sampling_factors=factors, max_after_balance_size=5.0,
                               seed=3),
        dinfo=SimpleNamespace(nclasses=3, response_domain=LEVELS, response="y"))


def _global_counts(out, comm) -> np.ndarray:
    return comm.allreduce_sum(np.bincount(out.y.astype(int), minlength=3).astype(np.float64))


@pytest.mark.mpi
def test_whole_factors_give_the_exact_global_counts(comm, everywhere):
    model, shard = _model([1.0, 3.0, 2.0]), _my_shard(comm, False)
    out = balance_shard(shard, model, comm, False, lambda _: None)
    counts = _global_counts(out, comm)

    def body():
        whole = np.bincount(_whole_y().astype(int), minlength=3)
        np.testing.assert_array_equal(counts, whole * [1, 3, 2])
        np.testing.assert_allclose(model.prior_class_dist, whole / NROWS)
        np.testing.assert_allclose(model.model_class_dist, counts / counts.sum())
        # every sampled row is one of this rank's own rows
        assert np.all((out.nums[:, 0] >= shard.first_row) &
                      (out.nums[:, 0] < shard.first_row + shard.n))
    everywhere(body)


@pytest.mark.mpi
def test_balanced_global_counts_reach_the_majority_count(comm, everywhere):
    model = _model(None)
    out = balance_shard(_my_shard(comm, False), model, comm, False, lambda _: None)
    counts = _global_counts(out, comm)

    def body():
        whole = np.bincount(_whole_y().astype(int), minlength=3)
        target = whole.max()                      # ratio majority / count for every class
        assert counts[whole.argmax()] == target
        sd = np.sqrt(whole * 0.25)                # at most a Bernoulli(1/2) per row
        assert np.all(np.abs(counts - target) < 5 * sd + 1e-9)
        np.testing.assert_allclose(model.prior_class_dist, whole / NROWS)
    everywhere(body)


@pytest.mark.mpi
def test_replicated_rows_give_every_rank_the_one_rank_sample(comm, everywhere):
    model = _model(None)
    out = balance_shard(_my_shard(comm, True), model, comm, True, lambda _: None)
    mine = out.nums[:, 0]

    def body():
        for other in comm.allgather_obj(mine):
            np.testing.assert_array_equal(other, mine)
    everywhere(body)


@pytest.mark.mpi
def test_rows_held_once_per_node_are_read_not_written(comm, everywhere):
    """Replicated rows in the node's shared memory (``node_data.share_shard``): each rank's
    sample is its own arrays, equal to the sample of a private copy, and the shared rows are
    unchanged."""
    from mpidl.train.node_data import share_shard
    node = comm.node_comm()
    private = _my_shard(comm, True)
    shared = share_shard(private if node.rank == 0 else
                         Shard(*(a[:0] for a in (private.nums, private.cats, private.y,
                                                 private.w)), 0, private.kept[:0]), node)
    before = shared.nums.copy(), shared.y.copy()
    out = balance_shard(shared, _model(None), comm, True, lambda _: None)
    want = balance_shard(private, _model(None), comm, True, lambda _: None)
    node.barrier()

    def body():
        np.testing.assert_array_equal(out.nums, want.nums)
        np.testing.assert_array_equal(out.y, want.y)
        np.testing.assert_array_equal(shared.nums, before[0])
        np.testing.assert_array_equal(shared.y, before[1])
        assert not np.shares_memory(out.nums, shared.nums)
    everywhere(body)
    node.barrier()
    node.free_shared()
