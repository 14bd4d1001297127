"""A sharded plan of ``categorical_encoding = "Eigen"`` (issue 15, point 1) against numpy on the
whole data: the projection is the leading eigenvector (numpy's ``eigh``) of the one-hot
covariance of the global level counts, the same bits on every rank, whatever the rank count.
Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_eigen_mpi.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from .test_encodings_mpi import _build
from .test_global_stats import shared_table

pytestmark = pytest.mark.timeout(120, method="thread")


@pytest.mark.mpi
def test_sharded_eigen_vector_equals_numpy_on_the_whole_data(comm, shared_dir, everywhere):
    path, cols = shared_table(comm, shared_dir, everywhere, "eigen.h5")

    def body():
        c = cols["c"]
        p = np.bincount(c[c >= 0], minlength=3) / np.count_nonzero(c >= 0)
        values, vectors = np.linalg.eigh(np.diag(p) - np.outer(p, p))
        want = vectors[:, -1] * np.sign(vectors[np.argmax(p), -1])
        got = _build(comm, path, categorical_encoding="Eigen")
        entry = next(e for e in got.encoding if e["name"] == "c")
        np.testing.assert_allclose(entry["vector"], want, atol=1e-12)
        assert comm.allgather_obj(entry["vector"]) == [entry["vector"]] * comm.size
        assert "c.Eigen" in got.num_names and "c" not in got.cat_names
    everywhere(body)
