"""Periodic checkpoints (train/periodic.py) on the real communicator.

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi``; a plain ``pytest``
skips these.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.params import validate
from mpidl.train.loop import train
from mpidl.train.periodic import checkpoint_files

pytestmark = pytest.mark.timeout(180, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
JOB = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
           distribution="bernoulli", hidden=[6], epochs=4, seed=21, reproducible=True,
           elastic_averaging=True, overwrite_with_best_model=False,
           train_samples_per_iteration=0, checkpoint_interval=1e-9, stopping_rounds=0)


def quiet(*args, **kw):
    pass


@pytest.mark.mpi
def test_periodic_checkpoints_keep_the_newest_two_with_every_ranks_local_model(
        comm, shared_dir, everywhere):
    out = str(shared_dir / "run.h5")
    everywhere(lambda: train(validate(JOB, "test"), comm, 1, out, "run", log=quiet))
    comm.barrier()

    def check():
        files = checkpoint_files(out)
        assert [Path(f).name for f in files] == ["run.ckpt-000002.h5", "run.ckpt-000003.h5"]
        assert not list(shared_dir.glob("*.tmp"))
        m = read_model(files[-1])
        assert m.iterations == 3 and m.processed == 3 * 380 and m.epoch_counter == 3.0
        assert m.local_bufs.shape == (comm.size, m.buf.size)
        assert np.all(np.isfinite(m.local_bufs))
    everywhere(check)


@pytest.mark.mpi
def test_a_resume_from_a_periodic_checkpoint_continues_as_the_uninterrupted_run(
        comm, shared_dir, everywhere):
    """Reproducible elastic averaging, 4 epochs straight, against 2 epochs' checkpoint + a
    resumed run to 4: bit-identical models (the local models came back from the file)."""
    straight, resumed = str(shared_dir / "straight.h5"), str(shared_dir / "resumed.h5")
    everywhere(lambda: train(validate(JOB, "test"), comm, 1, straight, "s", log=quiet))
    comm.barrier()
    ckpt = checkpoint_files(straight)[0]
    raw = {**JOB, "checkpoint": ckpt, "checkpoint_interval": 0}
    everywhere(lambda: train(validate(raw, "test"), comm, 1, resumed, "s", log=quiet))
    comm.barrier()

    def check():
        a, b = read_model(straight), read_model(resumed)
        assert read_model(ckpt).iterations == 2
        assert (a.iterations, a.processed) == (b.iterations, b.processed) == (4, 4 * 380)
        assert np.array_equal(a.buf, b.buf)
    everywhere(check)
