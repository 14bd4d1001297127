"""Cross-validation on the real communicator (cv/run.py): the folds, the holdout rows and the
CV metrics do not depend on the rank count.

Run inside MPI: ``mpirun -n N python -m pytest --with-mpi tests/mpi/test_cv_mpi.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.cv.run import train_with_cv
from mpidl.params import validate

pytestmark = pytest.mark.timeout(300, method="thread")

PROSTATE = str(Path(__file__).resolve().parents[2] / "data" / "prostate.csv")
BASE = dict(training_frame=PROSTATE, response_column="CAPSULE", ignored_columns=["ID"],
            distribution="bernoulli", hidden=[5], epochs=3, seed=42, nfolds=3,
            keep_cross_validation_predictions=True, keep_cross_validation_fold_assignment=True)
# rank 0 trains alone on all rows, as one reproducible rank does (one epoch per iteration, a
# linear scan): the same models, so the CV machinery alone is compared across rank counts
ROOT_TRAINS = dict(replicate_training_data=True, single_node_mode=True,
                   train_samples_per_iteration=0, score_each_iteration=True)


def quiet(*args, **kw):
    pass


def cv_run(comm, folder: Path, **kw):
    params = validate({**BASE, **kw}, "test")
    return train_with_cv(params, comm, 1, str(folder / "m.h5"), "m", log=quiet)


def column(path, index, kind=float):
    with open(path) as f:
        return np.array([kind(r[index]) for r in list(csv.reader(f))[1:]])


@pytest.mark.mpi
def test_cv_gives_the_folds_and_metrics_of_one_rank(comm, shared_dir, everywhere):
    many = cv_run(comm, shared_dir, **ROOT_TRAINS)

    def body():
        if not comm.is_root:
            return True
        one_dir = shared_dir / "one"
        one_dir.mkdir()
        one = cv_run(SerialComm(), one_dir, reproducible=True)
        assert one.epoch_counter == many.epoch_counter
        for name in ("m_cv_fold_assignment.csv", "m_cv_holdout_predictions.csv"):
            assert (one_dir / name).read_text() == (shared_dir / name).read_text(), name
        for key, value in one.cross_validation_metrics.items():
            if isinstance(value, float):
                assert many.cross_validation_metrics[key] == pytest.approx(value, rel=1e-9), key
        assert many.cross_validation_metrics["nobs"] == 380
        return True
    assert everywhere(body)


@pytest.mark.mpi
def test_sharded_cv_scores_every_row_once_and_is_reproducible(comm, shared_dir, everywhere):
    first = cv_run(comm, shared_dir, reproducible=True, fold_assignment="Stratified")
    again_dir = comm.bcast_obj(str(shared_dir / "again") if comm.is_root else None)
    if comm.is_root:
        Path(again_dir).mkdir()
    comm.barrier()
    again = cv_run(comm, Path(again_dir), reproducible=True, fold_assignment="Stratified")

    def body():
        if not comm.is_root:
            return True
        y = column(PROSTATE, 1)
        folds = column(shared_dir / "m_cv_fold_assignment.csv", 0, int)
        for c in (0, 1):                      # Stratified: each class split to within one row
            counts = np.bincount(folds[y == c], minlength=3)
            assert counts.max() - counts.min() <= 1
        preds = shared_dir / "m_cv_holdout_predictions.csv"
        p0, p1 = column(preds, 1), column(preds, 2)         # no empty line: all held out
        cv = first.cross_validation_metrics
        assert cv["nobs"] == 380
        assert cv["MSE"] == pytest.approx(np.mean((y - p1) ** 2), abs=1e-6)
        p_y = np.where(y == 1, p1, p0)      # each as printed (1 - p1 loses a tiny p0's digits)
        assert cv["logloss"] == pytest.approx(-np.mean(np.log(np.maximum(p_y, 1e-15))), abs=1e-6)
        assert again.cross_validation_metrics == cv
        return True
    assert everywhere(body)
