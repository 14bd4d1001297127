"""Which rows each rank reads (run under mpirun with pytest-mpi; a plain pytest skips these)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpidl.data.hdf5 import block_range
from mpidl.params import validate
from mpidl.train.loop import Trainer

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")


def quiet(*args, **kw):
    pass


@pytest.mark.mpi
def test_reproducible_reads_only_this_ranks_shard(comm, shared_dir, everywhere):
    """reproducible = true shards the data (H2O: no replication): with replicate_training_data
    left at its default (true), each rank must read its own block of rows, not the whole file,
    and the run must count the file's 380 rows once."""
    def body():
        raw = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
                   distribution="bernoulli", hidden=[5], epochs=1, reproducible=True, seed=3)
        t = Trainer(validate(raw, "test"), comm, 1, str(shared_dir / "r.h5"), "r", log=quiet)
        lo, hi = block_range(380, comm.size, comm.rank)
        assert t.model.params.replicate_training_data is False
        assert (t.shard.first_row, t.shard.n) == (lo, hi - lo)
        assert t.rows == 380
    everywhere(body)
