"""Sharded plans of ``categorical_encoding`` (issue 15, point 1) against numpy on the whole
data: EnumLimited's kept levels come from the global level counts and SortByResponse's level
order from the global weighted mean response per level, whatever the rank count.
Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_encodings_mpi.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mpidl.data.build_info import build_datainfo
from mpidl.data.frame import Frame
from mpidl.data.hdf5 import block_range
from mpidl.params import validate

from .test_global_stats import DOMAINS, shared_table

pytestmark = pytest.mark.timeout(120, method="thread")


def _build(comm, path: str, **params):
    p = validate({"training_frame": path, "response_column": "ybin", "distribution": "bernoulli",
                  "ignored_columns": ["y"], "weights_column": "w", **params}, "test")
    frame = Frame(path)
    lo, hi = block_range(frame.nrows, comm.size, comm.rank)
    names = [n for n in frame.info.names if n not in p.ignored_columns]
    return build_datainfo(frame, frame.read(names, lo, hi), p, comm, path,
                          log=lambda *a, **k: None)


@pytest.mark.mpi
def test_sharded_encoding_plans_equal_numpy_on_the_whole_data(comm, shared_dir, everywhere):
    path, cols = shared_table(comm, shared_dir, everywhere, "encodings.h5")

    def body():
        c = cols["c"]
        counts = np.bincount(c[c >= 0], minlength=3)
        top = sorted(range(3), key=lambda i: (-counts[i], i))[:2]
        got = _build(comm, path, categorical_encoding="EnumLimited", max_categorical_levels=2)
        i = got.cat_names.index("c.top_2_levels")
        assert got.cat_domains[i] == [DOMAINS["c"][j] for j in top] + ["other"]
        ok = (c >= 0) & (cols["w"] > 0)
        y = (cols["ybin"] == 8.0).astype(float)
        means = [np.average(y[ok & (c == j)], weights=cols["w"][ok & (c == j)])
                 for j in range(3)]
        got = _build(comm, path, categorical_encoding="SortByResponse")
        i = got.cat_names.index("c")
        assert got.cat_domains[i] == [DOMAINS["c"][j] for j in np.argsort(means, kind="stable")]
    everywhere(body)
