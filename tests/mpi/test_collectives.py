"""Collectives, averaging, global statistics and sharded reads on the real communicator.

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi`` (any N >= each test's
``min_size``); a plain ``pytest`` skips these.  Every check goes through the ``everywhere``
fixture, so a failure on one rank fails the test on all ranks.
"""

from __future__ import annotations

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data.build_info import build_datainfo
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import block_range, read_columns, write_table
from mpidl.errors import UserError
from mpidl.params import validate
from mpidl.train.averaging import average_models, elastic_average, iteration_counts

pytestmark = pytest.mark.timeout(120, method="thread")

N = 1031  # buffer length: odd, not a multiple of anything


def rank_buffer(rank: int, n: int = N, seed: int = 1000) -> np.ndarray:
    """The buffer rank ``rank`` contributes (any rank can recompute any other's)."""
    return np.random.default_rng([seed, rank]).standard_normal(n).astype(np.float32)


def mean_buffer(ranks, seed: int = 1000) -> np.ndarray:
    """float64 mean of the buffers of ``ranks`` (what averaging must produce)."""
    return np.mean([rank_buffer(r, seed=seed).astype(np.float64) for r in ranks], axis=0)


# ---------------------------------------------------------------------- comm basics
@pytest.mark.mpi
def test_reductions_and_broadcasts(comm, everywhere):
    def body():
        r, n = comm.rank, comm.size
        s = comm.allreduce_sum(np.array([r + 1.0, 1.0]))
        assert s.tolist() == [n * (n + 1) / 2, float(n)]
        assert comm.allreduce_max(np.array([r], dtype=np.int64))[0] == n - 1
        assert comm.allreduce_min(np.array([r + 5.0]))[0] == 5.0
        a = np.arange(4.0) if comm.is_root else np.zeros(4)
        assert comm.bcast_array(a).tolist() == [0.0, 1.0, 2.0, 3.0]
        assert comm.bcast_obj({"from": r}, root=n - 1) == {"from": n - 1}
        assert comm.allgather_obj(r) == list(range(n))
        g = comm.gather_obj(r * 10)
        assert g == (list(range(0, 10 * n, 10)) if comm.is_root else None)
    everywhere(body)


@pytest.mark.mpi
def test_isend_arrives_in_order_at_rank_0(comm, everywhere):
    """Each rank's non-blocking sends reach rank 0 in the order they were started."""
    def body():
        if comm.is_root:
            for r in range(1, comm.size):
                for k in range(3):
                    got = comm.recv_array(np.zeros(5, dtype=np.int64), r)
                    assert got.tolist() == [r, k, r * k, 7, 8]
        else:
            sent = [np.array([comm.rank, k, comm.rank * k, 7, 8], dtype=np.int64)
                    for k in range(3)]
            for request in [comm.isend_array(a, 0) for a in sent]:
                request.wait()
    everywhere(body)
    with pytest.raises(ValueError, match="no other rank"):
        SerialComm().isend_array(np.zeros(1), 0)


# ---------------------------------------------------------------------- averaging
@pytest.mark.mpi
def test_average_models_is_the_mean_of_all_ranks(comm, everywhere):
    def body():
        buf = rank_buffer(comm.rank)
        contributors, total, _, _, _, _ = iteration_counts(comm, 7, False, 0.0)
        assert (contributors, total) == (comm.size, 7 * comm.size)
        average_models(comm, buf, 7, contributors)
        expected = mean_buffer(range(comm.size))
        np.testing.assert_allclose(buf, expected, rtol=1e-5, atol=1e-6)
        # the result is the same bits on every rank
        assert len(set(comm.allgather_obj(buf.tobytes()))) == 1
    everywhere(body)


@pytest.mark.mpi(min_size=2)
def test_average_models_excludes_a_rank_without_rows(comm, everywhere):
    def body():
        idle = comm.size - 1                       # the last rank trained no row
        n_local = 0 if comm.rank == idle else 5
        buf = rank_buffer(comm.rank)
        if comm.rank == idle:
            buf[:] = 1e30                          # stale junk must not leak into the mean
        contributors, total, _, _, _, _ = iteration_counts(comm, n_local, False, 0.0)
        assert contributors == comm.size - 1 and total == 5 * (comm.size - 1)
        average_models(comm, buf, n_local, contributors)
        expected = mean_buffer(range(comm.size - 1))
        np.testing.assert_allclose(buf, expected, rtol=1e-5, atol=1e-6)
    everywhere(body)


@pytest.mark.mpi
def test_average_models_with_no_contributor_leaves_buffers_alone(comm, everywhere):
    def body():
        buf = rank_buffer(comm.rank)
        contributors, total, _, _, _, _ = iteration_counts(comm, 0, False, 0.0)
        assert (contributors, total) == (0, 0)
        average_models(comm, buf, 0, contributors)
        np.testing.assert_array_equal(buf, rank_buffer(comm.rank))
    everywhere(body)


@pytest.mark.mpi
def test_elastic_average_follows_the_easgd_formula(comm, everywhere):
    def body():
        beta = 0.3
        size = comm.size
        idle = size - 1 if size > 1 else None      # a non-contributor when there is room
        n_local = 0 if comm.rank == idle else 3
        contrib = [r for r in range(size) if r != idle]
        mean = lambda seed: mean_buffer(contrib, seed)  # noqa: E731
        consensus = np.random.default_rng(5).standard_normal(N).astype(np.float32)
        scratch = np.empty_like(consensus)
        c, _, _, _, _, _ = iteration_counts(comm, n_local, False, 0.0)
        assert c == len(contrib)
        # first call: the plain mean, whatever the previous consensus held
        local = rank_buffer(comm.rank, seed=1)
        kept = local.copy()
        elastic_average(comm, local, consensus, n_local, c, beta, True, scratch)
        np.testing.assert_allclose(consensus, mean(1), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(local, kept)  # local models are not reset
        # later calls: beta * mean + (1 - beta) * previous consensus
        prev = consensus.astype(np.float64)
        local = rank_buffer(comm.rank, seed=2)
        elastic_average(comm, local, consensus, n_local, c, beta, False, scratch)
        np.testing.assert_allclose(consensus, beta * mean(2) + (1 - beta) * prev,
                                   rtol=1e-5, atol=1e-6)
        # beta == 1: the mean again
        local = rank_buffer(comm.rank, seed=3)
        elastic_average(comm, local, consensus, n_local, c, 1.0, False, scratch)
        np.testing.assert_allclose(consensus, mean(3), rtol=1e-5, atol=1e-6)
        assert len(set(comm.allgather_obj(consensus.tobytes()))) == 1
    everywhere(body)


@pytest.mark.mpi
def test_iteration_counts_sums_rows_and_seconds_and_ors_signals(comm, everywhere):
    def body():
        size, r = comm.size, comm.rank
        # rank 0 trained no row; the last rank got a signal
        c, total, sig, secs, idle, wait = iteration_counts(comm, 3 * r, r == size - 1,
                                                           0.5 * r, 0.25 * r, 1.0 + r, 1.5 + r)
        assert c == size - 1
        assert total == 3 * size * (size - 1) // 2
        assert sig is True
        assert secs == pytest.approx(0.5 * size * (size - 1) / 2)
        assert idle == pytest.approx(0.25 * size * (size - 1) / 2)
        # ready at 1 + r s, done 0.5 s later: rank 0 stopped at 1.5 s, the last was ready at
        # size s, so the longest wait is size - 1.5 s (none on one rank)
        assert wait == pytest.approx(max(0.0, size - 1.5))
        c, total, sig, _, idle, _ = iteration_counts(comm, 2, False, 0.0)
        assert (c, total, sig, idle) == (size, 2 * size, False, 0.0)
        c, total, sig, _, _, _ = iteration_counts(comm, 1, r == 0, 0.0)
        assert sig is True
    everywhere(body)


# ---------------------------------------------------------------------- agree
@pytest.mark.mpi(min_size=2)
def test_agree_raises_rank_1_error_on_every_rank(comm, everywhere):
    def body():
        err = UserError("job.toml: bad thing seen by rank 1 only") if comm.rank == 1 else None
        with pytest.raises(UserError) as info:
            comm.agree(err)
        assert str(info.value) == "job.toml: bad thing seen by rank 1 only"
        assert getattr(info.value, "agreed", False) is True
    everywhere(body)


@pytest.mark.mpi
def test_agree_lowest_failing_rank_wins_and_no_error_passes(comm, everywhere):
    def body():
        assert comm.agree(None) is None
        top = comm.size - 1
        # every rank but rank 0 fails (rank 0 alone fails when there is one rank)
        failing = comm.rank > 0 or comm.size == 1
        err = UserError(f"message of rank {comm.rank}") if failing else None
        with pytest.raises(UserError) as info:
            comm.agree(err)
        assert str(info.value) == f"message of rank {min(1, top)}"
        assert info.value.agreed
    everywhere(body)


# ---------------------------------------------------------------------- data
NROWS = 103  # not divisible by 2, 3 or 4: the shards are uneven


def _synthetic_table(path, size: int) -> None:
    """Numeric and categorical columns with NaNs / missing codes, columns constant on rank 0's
    shard only (for this ``size``), columns constant everywhere, and three responses."""
    rng = np.random.default_rng(42)
    n = NROWS
    _, hi0 = block_range(n, size, 0)
    lo_last = block_range(n, size, size - 1)[0]
    x = rng.normal(3.0, 2.0, n)
    x[rng.random(n) < 0.15] = np.nan
    x0 = rng.normal(-1.0, 0.5, n)
    x0[:hi0] = 5.0                                  # constant on rank 0's shard only
    x0[hi0 + 1::7] = np.nan
    sparse = np.full(n, np.nan)                     # values on the last shard only
    sparse[lo_last:] = rng.uniform(10, 20, n - lo_last)
    sparse[lo_last] = 100.0
    konst = np.full(n, 7.0)
    konst[::5] = np.nan
    cat = rng.integers(0, 4, n).astype(np.int32)
    cat[rng.random(n) < 0.1] = -1
    cat0 = rng.integers(0, 3, n).astype(np.int32)
    cat0[:hi0] = 1                                  # one level on rank 0's shard only
    if hi0 < n:
        cat0[hi0] = 2
    ccon = np.zeros(n, dtype=np.int32)
    ccon[1::3] = -1
    big = rng.integers(0, 6, n).astype(np.int32)  # larger domain: sorted first
    y = rng.normal(50, 10, n)
    y[3] = np.nan
    ybin = (rng.random(n) < 0.4).astype(float)
    ycat = rng.integers(0, 2, n).astype(np.int32)
    ycat[lo_last + (n - lo_last) // 2:] = 2         # level "z" only on the last shard
    w = rng.uniform(0.5, 2.0, n)
    write_table(path, {"x": x, "x_shard0": x0, "sparse": sparse, "konst": konst, "cat": cat,
                       "cat_shard0": cat0, "ccon": ccon, "big": big, "y": y, "ybin": ybin,
                       "ycat": ycat, "w": w},
                {"cat": ["a", "b", "c", "d"], "cat_shard0": ["p", "q", "r"], "ccon": ["k"],
                 "big": list("uvwxyz"), "ycat": ["x", "y", "z"]})


RESPONSES = {
    "regression_weighted": dict(response_column="y", ignored_columns=["ybin", "ycat"],
                                weights_column="w"),
    "bernoulli_numeric": dict(response_column="ybin", ignored_columns=["y", "ycat", "w"],
                              distribution="bernoulli"),
    "categorical": dict(response_column="ycat", ignored_columns=["y", "ybin", "w"]),
}


@pytest.mark.mpi
@pytest.mark.parametrize("case", sorted(RESPONSES))
def test_global_statistics_equal_single_rank(comm, shared_dir, everywhere, case):
    path = str(shared_dir / "synthetic.h5")

    def write():
        if comm.is_root:
            _synthetic_table(path, comm.size)
    everywhere(write)
    comm.barrier()

    def body():
        params = validate({"training_frame": path, **RESPONSES[case]}, "test")
        frame = Frame(path)
        names = [n for n in frame.info.names if n not in params.ignored_columns]
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        shard = frame.read(names, lo, hi)
        got = build_datainfo(frame, shard, params, comm, path, log=lambda *a, **k: None)
        ref = build_datainfo(frame, frame.read(names), params, SerialComm(), path,
                             log=lambda *a, **k: None)
        assert got.response_domain == ref.response_domain
        assert got.cat_names == ref.cat_names
        assert got.cat_domains == ref.cat_domains
        assert got.num_names == ref.num_names
        np.testing.assert_allclose(got.num_sub, ref.num_sub, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.num_mul, ref.num_mul, rtol=1e-12)
        np.testing.assert_allclose([got.resp_sub, got.resp_mul], [ref.resp_sub, ref.resp_mul],
                                   rtol=1e-12)
        assert (got.weights_column, got.skip_missing) == (ref.weights_column, ref.skip_missing)
        # the constant columns are dropped; the shard-0-constant ones only when they are
        # constant globally (one rank)
        assert "konst" not in got.num_names and "ccon" not in got.cat_names
        assert ("x_shard0" in got.num_names) == (comm.size > 1)
        assert ("cat_shard0" in got.cat_names) == (comm.size > 1)
        assert "sparse" in got.num_names and got.cat_names[0] == "big"
        if case == "categorical":
            assert got.response_domain == ["x", "y", "z"]
        if case == "bernoulli_numeric":
            assert got.response_domain == ["0", "1"]
        if comm.is_root and comm.size > 1:
            # rank 0 alone would have dropped them: the statistics really are global
            alone = build_datainfo(frame, shard, params, SerialComm(), path,
                                   log=lambda *a, **k: None)
            assert "x_shard0" not in alone.num_names
            assert "cat_shard0" not in alone.cat_names
        # every rank built the very same DataInfo
        assert len({repr(d) for d in comm.allgather_obj(got.to_dict())}) == 1
    everywhere(body)


@pytest.mark.mpi
@pytest.mark.parametrize("nrows", [0, 1, 3, 103])
def test_sharded_reads_cover_every_row_once(comm, shared_dir, everywhere, nrows):
    path = str(shared_dir / f"rows{nrows}.h5")

    def write():
        if comm.is_root:
            ids = np.arange(nrows, dtype=np.float64)
            write_table(path, {"rid": ids, "code": (np.arange(nrows) % 3).astype(np.int32)},
                        {"code": ["a", "b", "c"]})
    everywhere(write)
    comm.barrier()

    def body():
        lo, hi = block_range(nrows, comm.size, comm.rank)
        cols = read_columns(path, ["rid", "code"], lo, hi)
        assert cols["rid"].dtype == np.float64 and cols["code"].dtype == np.int32
        assert len(cols["rid"]) == hi - lo
        np.testing.assert_array_equal(cols["code"], cols["rid"].astype(np.int64) % 3)
        parts = comm.allgather_obj(cols["rid"])
        allrows = np.concatenate(parts)
        np.testing.assert_array_equal(allrows, np.arange(nrows))  # in order, none twice
        sizes = [len(p) for p in parts]
        assert max(sizes) - min(sizes) <= 1
        assert sizes == sorted(sizes, reverse=True)
    everywhere(body)
