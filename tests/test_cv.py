"""N-fold cross-validation end to end on one rank (cv/run.py): the kept files, the CV metrics
against plain-numpy metrics of the kept holdout predictions, and H2O's epochs rule for the
main model."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from mpidl.checkpoint import read_model
from mpidl.comm import SerialComm
from mpidl.cv.run import train_with_cv
from mpidl.params import load_job, validate
from mpidl.report import json_report, text_report

REPO = Path(__file__).resolve().parents[1]
PROSTATE = str(REPO / "data" / "prostate.csv")
BASE = dict(training_frame=PROSTATE, ignored_columns=["ID"], hidden=[5], epochs=3, seed=11,
            train_samples_per_iteration=0, keep_cross_validation_predictions=True,
            keep_cross_validation_fold_assignment=True)


def quiet(*args, **kw):
    pass


def run_cv(tmp_path, **kw):
    params = validate({**BASE, **kw}, "test")
    out = str(tmp_path / "m.h5")
    return train_with_cv(params, SerialComm(), 1, out, "m", log=quiet), tmp_path


def column(name, kind=float):
    with open(PROSTATE) as f:
        return np.array([kind(r[name]) for r in csv.DictReader(f)])


def read_csv(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def auc(y, p):
    """Mann-Whitney AUC (ties count one half)."""
    pos, neg = p[y == 1], p[y == 0]
    return ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) \
        / (pos.size * neg.size)


def binomial(y, p0, p1):
    p_y = np.where(y == 1, p1, p0)      # each as printed (1 - p1 loses a tiny p0's digits)
    return {"logloss": -np.mean(np.log(np.maximum(p_y, 1e-15))),
            "MSE": np.mean((y - p1) ** 2), "AUC": auc(y, p1)}


@pytest.fixture(scope="module")
def binomial_cv(tmp_path_factory):
    return run_cv(tmp_path_factory.mktemp("cv"), response_column="CAPSULE",
                  distribution="bernoulli", nfolds=3, fold_assignment="Modulo")


def test_binomial_cv_metrics_are_those_of_the_kept_holdout_predictions(binomial_cv):
    model, folder = binomial_cv
    y = column("CAPSULE")
    header, rows = read_csv(folder / "m_cv_holdout_predictions.csv")
    assert header == ["predict", "p0", "p1"] and len(rows) == 380
    p0, p1 = (np.array([float(r[c]) for r in rows]) for c in (1, 2))
    want = binomial(y, p0, p1)
    cv = model.cross_validation_metrics
    assert cv["nobs"] == 380
    for key, value in want.items():
        assert cv[key] == pytest.approx(value, abs=1e-6), key
    # the summary: each fold model's metrics on its own holdout, their mean and sample sd
    folds = np.arange(380) % 3
    for key in ("logloss", "MSE", "AUC"):
        per_fold = [binomial(y[folds == k], p0[folds == k], p1[folds == k])[key]
                    for k in range(3)]
        s = model.cross_validation_metrics_summary[key]
        assert s["folds"] == pytest.approx(per_fold, abs=1e-6)
        assert s["mean"] == pytest.approx(np.mean(per_fold), abs=1e-6)
        assert s["sd"] == pytest.approx(np.std(per_fold, ddof=1), abs=1e-6)


def test_kept_files_beside_the_main_model(binomial_cv):
    model, folder = binomial_cv
    header, rows = read_csv(folder / "m_cv_fold_assignment.csv")
    assert header == ["fold_assignment"]
    assert [int(r[0]) for r in rows] == [i % 3 for i in range(380)]
    for k in range(3):
        fold_model = read_model(str(folder / f"m_cv_{k + 1}.h5"))
        assert fold_model.model_id == f"m_cv_{k + 1}"
        assert fold_model.training_rows == 380 - len(range(k, 380, 3))   # the other folds' rows
        assert fold_model.params.nfolds == 0
    saved = read_model(str(folder / "m.h5"))
    assert saved.cross_validation_metrics == model.cross_validation_metrics
    assert saved.cross_validation_files["models"] == [str(folder / f"m_cv_{k}.h5")
                                                      for k in (1, 2, 3)]


def test_inspect_shows_the_cv_metrics_and_summary(binomial_cv):
    _, folder = binomial_cv
    saved = read_model(str(folder / "m.h5"))
    text = text_report(saved)
    assert "cross-validation metrics:" in text
    assert "cross-validation metrics summary (3 folds):" in text
    assert "cv_3_valid" in text
    js = json_report(saved)
    assert js["cross_validation_metrics"]["nobs"] == 380
    assert set(js["cross_validation_metrics_summary"]["AUC"]) == {"mean", "sd", "folds"}


def test_regression_cv_metrics_are_those_of_the_kept_holdout_predictions(tmp_path):
    model, folder = run_cv(tmp_path, response_column="AGE", nfolds=4, seed=3)
    y = column("AGE")
    _, rows = read_csv(folder / "m_cv_holdout_predictions.csv")
    pred = np.array([float(r[0]) for r in rows])
    cv = model.cross_validation_metrics
    assert cv["MSE"] == pytest.approx(np.mean((y - pred) ** 2), rel=1e-7)
    assert cv["mae"] == pytest.approx(np.mean(np.abs(y - pred)), rel=1e-7)
    assert cv["mean_residual_deviance"] == pytest.approx(np.mean((y - pred) ** 2), rel=1e-7)
    assert not (folder / "m_cv_5.h5").exists() and (folder / "m_cv_4.h5").exists()


def test_main_model_epochs_are_the_mean_of_the_early_stopped_fold_models(tmp_path):
    model, folder = run_cv(tmp_path, response_column="CAPSULE", distribution="bernoulli",
                           nfolds=2, epochs=40, stopping_rounds=1, stopping_tolerance=0.5,
                           score_each_iteration=True, train_samples_per_iteration=50,
                           keep_cross_validation_predictions=False,
                           keep_cross_validation_fold_assignment=False)
    fold_epochs = [read_model(str(folder / f"m_cv_{k}.h5")).epoch_counter for k in (1, 2)]
    assert max(fold_epochs) < 40                   # they stopped early
    assert model.params.epochs == pytest.approx(np.mean(fold_epochs), rel=1e-12)
    assert model.params.stopping_rounds == 0
    assert model.params.overwrite_with_best_model is False
    assert model.epoch_counter == pytest.approx(np.mean(fold_epochs), abs=50 / 380)


def test_without_early_stopping_the_main_model_keeps_its_epochs(tmp_path):
    model, folder = run_cv(tmp_path, response_column="CAPSULE", distribution="bernoulli",
                           fold_column="RACE", ignored_columns=["ID"], epochs=2,
                           keep_cross_validation_models=False)
    assert model.params.epochs == 2 and model.params.fold_column == "RACE"
    assert sorted(p.name for p in folder.iterdir()) == [
        "m.h5", "m_cv_fold_assignment.csv", "m_cv_holdout_predictions.csv"]
    assert model.cross_validation_files["models"] == []
    race = column("RACE")
    assert len(model.cross_validation_metrics_summary["logloss"]["folds"]) == \
        len(set(race.tolist()))
    assert "RACE" not in model.dinfo.predictors


def test_a_model_file_from_before_cross_validation_still_reads():
    old = read_model(str(REPO / "tests" / "adversarial" / "data" / "model_before_checksums.h5"))
    assert old.cross_validation_metrics == {} and old.cross_validation_metrics_summary == {}
    assert not math.isnan(old.epoch_counter)


def test_the_cv_job_file_runs(tmp_path):
    params = load_job(str(REPO / "jobs" / "cv_prostate.toml"),
                      ["epochs=2", "hidden=[5]", "quiet_mode=true"], [])
    model = train_with_cv(params, SerialComm(), 1, str(tmp_path / "cv_prostate.h5"),
                          "cv_prostate", log=quiet)
    assert len(model.cross_validation_metrics_summary["AUC"]["folds"]) == 5
    assert (tmp_path / "cv_prostate_cv_5.h5").exists()
    assert (tmp_path / "cv_prostate_cv_holdout_predictions.csv").exists()
