"""Global column statistics of sharded DataInfo builds against numpy on the whole data.

Every rank builds the DataInfo from its own shard (the communicator adds the statistics);
the expected values come from numpy over the concatenated columns, regenerated from the seed
on every rank: H2O's weighted mean and sample standard deviation (RollupStats / BasicStats:
n / (n - 1) of the weighted variance over the n values with a non-zero weight), constant
columns (min == max over the present values), categorical domains and the response levels.
Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_global_stats.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mpidl.data.build_info import build_datainfo
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import block_range, write_table
from mpidl.params import validate

pytestmark = pytest.mark.timeout(120, method="thread")

NROWS = 97          # uneven shards for 2, 3 and 4 ranks
DOMAINS = {"c": ["a", "b", "c"], "c_shard0": ["p", "q"], "c_const": ["k", "l"]}


def columns(size: int) -> dict:
    """The whole table; ``*_shard0`` columns are constant on rank 0's shard only."""
    rng = np.random.default_rng(2024)
    n = NROWS
    hi0 = block_range(n, size, 0)[1]
    x = rng.normal(5.0, 3.0, n)
    x[rng.random(n) < 0.2] = np.nan
    x_shard0 = rng.normal(0.0, 1.0, n)
    x_shard0[:hi0] = 2.0
    konst = np.where(rng.random(n) < 0.3, np.nan, -1.5)
    c = rng.integers(-1, 3, n).astype(np.int32)
    c_shard0 = rng.integers(0, 2, n).astype(np.int32)
    c_shard0[:hi0] = 0
    c_shard0[-1] = 1
    c_const = np.where(rng.random(n) < 0.3, -1, 1).astype(np.int32)   # level 'l' only
    y = rng.normal(100.0, 15.0, n)
    y[7] = np.nan
    ybin = rng.choice([3.0, 8.0], n)
    w = rng.choice([0.0, 0.25, 1.0, 3.0], n)
    return {"x": x, "x_shard0": x_shard0, "konst": konst, "c": c, "c_shard0": c_shard0,
            "c_const": c_const, "y": y, "ybin": ybin, "w": w}


def shared_table(comm, shared_dir, everywhere, name: str) -> tuple[str, dict]:
    """(path, columns): ``columns(comm.size)`` written by rank 0 to ``shared_dir/name``, every
    rank past a barrier once it is there."""
    path = str(shared_dir / name)
    cols = columns(comm.size)

    def write():
        if comm.is_root:
            write_table(path, cols, DOMAINS)
    everywhere(write)
    comm.barrier()
    return path, cols


def h2o_mean_sd(x: np.ndarray, w: np.ndarray) -> tuple:
    ok = ~np.isnan(x) & (w > 0)
    n = ok.sum()
    mean = np.average(x[ok], weights=w[ok])
    var = np.average((x[ok] - mean) ** 2, weights=w[ok]) * n / (n - 1)
    return mean, np.sqrt(var)


CASES = {
    "regression": dict(response_column="y", ignored_columns=["ybin", "w"]),
    "regression_weighted": dict(response_column="y", ignored_columns=["ybin"],
                                weights_column="w"),
    "bernoulli": dict(response_column="ybin", ignored_columns=["y", "w"],
                      distribution="bernoulli"),
}


@pytest.mark.mpi
@pytest.mark.parametrize("case", sorted(CASES))
def test_sharded_statistics_equal_numpy_on_the_whole_data(comm, shared_dir, everywhere, case):
    path, cols = shared_table(comm, shared_dir, everywhere, "table.h5")

    def body():
        params = validate({"training_frame": path, **CASES[case]}, "test")
        frame = Frame(path)
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        names = [n for n in frame.info.names if n not in params.ignored_columns]
        got = build_datainfo(frame, frame.read(names, lo, hi), params, comm, path,
                             log=lambda *a, **k: None)
        w = cols["w"] if params.weights_column else np.ones(NROWS)
        varying = [n for n in names if n not in (params.response_column, "w")
                   and np.unique(cols[n][(cols[n] >= 0) if n in DOMAINS
                                         else ~np.isnan(cols[n])]).size > 1]
        assert "konst" not in varying and "c_const" not in varying
        assert ("x_shard0" in varying) == (comm.size > 1)    # else constant on the one shard
        assert got.num_names == [n for n in varying if n not in DOMAINS]
        assert got.cat_names == [n for n in varying if n in DOMAINS]
        assert got.cat_domains == [DOMAINS[n] for n in got.cat_names]
        for i, name in enumerate(got.num_names):
            mean, sd = h2o_mean_sd(cols[name], w)
            assert got.num_sub[i] == pytest.approx(mean, rel=1e-12, abs=1e-12)
            assert got.num_mul[i] == pytest.approx(1 / sd, rel=1e-12)
        if case == "bernoulli":
            assert got.response_domain == ["3", "8"]
            assert (got.resp_sub, got.resp_mul) == (0.0, 1.0)
        else:
            mean, sd = h2o_mean_sd(cols["y"], w)
            assert got.resp_sub == pytest.approx(mean, rel=1e-12)
            assert got.resp_mul == pytest.approx(1 / sd, rel=1e-12)
    everywhere(body)


@pytest.mark.mpi
def test_replicated_data_counts_each_row_once(comm, shared_dir, everywhere):
    """replicate_training_data: every rank reads the whole frame, and the statistics (the
    sample sd's n / (n - 1) included) are those of one copy, not of ``size`` copies."""
    from mpidl.train.setup import build_model, open_training
    path, cols = shared_table(comm, shared_dir, everywhere, "replicated.h5")

    def body():
        params = validate({"training_frame": path, "response_column": "y",
                           "ignored_columns": ["ybin", "w"], "replicate_training_data": True},
                          "test")
        frame, raw, _ = open_training(params, comm)
        model, _ = build_model(params, frame, raw, comm, "replicated", lambda *a, **k: None)
        mean, sd = h2o_mean_sd(cols["x"], np.ones(NROWS))
        i = model.dinfo.num_names.index("x")
        assert model.dinfo.num_sub[i] == pytest.approx(mean, rel=1e-12)
        assert model.dinfo.num_mul[i] == pytest.approx(1 / sd, rel=1e-12)
        mean, sd = h2o_mean_sd(cols["y"], np.ones(NROWS))
        assert model.dinfo.resp_mul == pytest.approx(1 / sd, rel=1e-12)
    everywhere(body)
