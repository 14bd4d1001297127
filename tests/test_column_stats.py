"""Startup statistics: a constant number of collectives, and numpy's numbers."""

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.data.build_info import build_datainfo
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import write_table
from mpidl.params import validate


class CountingComm(SerialComm):
    """A one-rank communicator that counts its collective calls."""

    def __init__(self):
        self.calls = 0

    def _count(self, value):
        self.calls += 1
        return value

    def allreduce_sum(self, arr):
        return self._count(arr)

    def allreduce_max(self, arr):
        return self._count(arr)

    def allreduce_min(self, arr):
        return self._count(arr)

    def allgather_obj(self, obj):
        return self._count([obj])

    def allgather_array(self, arr):
        return self._count(arr[None].copy())

    def bcast_obj(self, obj, root=0):
        return self._count(obj)

    def bcast_array(self, arr, root=0):
        return self._count(arr)

    def gather_obj(self, obj, root=0):
        return self._count([obj])


def _frame(tmp_path, n_num: int, n_cat: int, regression: bool) -> tuple[str, dict]:
    rng = np.random.default_rng(n_num)
    n = 50
    cols = {f"x{i}": rng.standard_normal(n) * (i + 1) + i for i in range(n_num)}
    cols["x0"][::5] = np.nan
    cols.update({f"c{i}": rng.integers(-1, 3, n).astype(np.int32) for i in range(n_cat)})
    cols["wt"] = rng.integers(1, 4, n).astype(float)
    cols["y"] = rng.standard_normal(n) if regression else rng.integers(0, 2, n).astype(np.int32)
    domains = {f"c{i}": ["a", "b", "c"] for i in range(n_cat)}
    if not regression:
        domains["y"] = ["no", "yes"]
    path = str(tmp_path / f"t{n_num}_{n_cat}_{regression}.h5")
    write_table(path, cols, domains)
    return path, cols


def _count_collectives(path) -> tuple[int, object]:
    params = validate({"training_frame": path, "response_column": "y",
                       "weights_column": "wt"}, "test")
    frame = Frame(path)
    comm = CountingComm()
    dinfo = build_datainfo(frame, frame.read(list(frame.info.names)), params, comm, path,
                           log=lambda *a, **k: None)
    return comm.calls, dinfo


@pytest.mark.parametrize("regression", [False, True])
def test_startup_collectives_do_not_grow_with_the_columns(tmp_path, regression):
    few, _ = _count_collectives(_frame(tmp_path, 3, 2, regression)[0])
    many, dinfo = _count_collectives(_frame(tmp_path, 300, 100, regression)[0])
    assert few == many <= 5     # before: about 4 per numeric and 3 per categorical column
    assert len(dinfo.num_names) == 300 and len(dinfo.cat_names) == 100


def test_startup_means_and_sds_are_numpys_weighted_ones(tmp_path):
    path, cols = _frame(tmp_path, 4, 1, True)
    _, dinfo = _count_collectives(path)
    w = cols["wt"]
    for name, sub, mul in zip(dinfo.num_names, dinfo.num_sub, dinfo.num_mul):
        x = cols[name]
        ok = ~np.isnan(x)
        mean = np.average(x[ok], weights=w[ok])
        n = np.count_nonzero(w[ok])           # H2O's sample sd: n / (n - 1) of the weighted
        sd = np.sqrt(np.average((x[ok] - mean) ** 2, weights=w[ok]) * n / (n - 1))  # variance
        assert sub == pytest.approx(mean, rel=1e-12) and mul == pytest.approx(1 / sd, rel=1e-12)
    y = cols["y"]
    assert dinfo.resp_sub == pytest.approx(np.average(y, weights=w), rel=1e-12)
