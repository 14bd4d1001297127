"""The Python API (mpidl/api.py) against independent references: scikit-learn's metrics on the
API's own predictions, H2O's column names, the prediction file of ``mpidl predict``, and
scikit-learn's estimator checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from cli_run import mpidl
from cli_run import prostate as prostate_csv
from sklearn.base import clone
from sklearn.metrics import log_loss, mean_squared_error, r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from mpidl import DeepLearningEstimator
from mpidl.checkpoint import write_model

SMALL = dict(hidden=[8], epochs=5, seed=1, reproducible=True, quiet_mode=True)

# scikit-learn checks that do not apply, each with its reason
EXPECTED_FAILED = {
    "check_parameters_default_constructible":
        "H2O's defaults are lists (hidden=[200, 200], ignored_columns=[]); H2O's names and "
        "defaults are the contract",
    "check_sample_weight_equivalence_on_dense_data":
        "H2O's weights scale each row's gradient step in online SGD: a row of weight 2 is not "
        "two visits of the row, as in H2O",
}


@pytest.fixture(scope="module")
def prostate() -> pd.DataFrame:
    return pd.read_csv(prostate_csv()).assign(CAPSULE=lambda d: d.CAPSULE.astype(str))


def test_train_predict_and_metrics_as_h2o_names_them(prostate):
    m = DeepLearningEstimator(**SMALL).train(x=["AGE", "RACE", "PSA", "GLEASON"], y="CAPSULE",
                                             training_frame=prostate)
    pred = m.predict(prostate)
    assert list(pred.columns) == ["predict", "p0", "p1"]
    y = (prostate.CAPSULE == "1").to_numpy()
    perf = m.model_performance(prostate)
    assert perf["logloss"] == pytest.approx(log_loss(y, pred.p1.to_numpy()), rel=1e-5)
    assert perf["AUC"] == pytest.approx(roc_auc_score(y, pred.p1), abs=2e-3)  # 400 bins
    assert perf["MSE"] == pytest.approx(mean_squared_error(y, pred.p1), rel=1e-5)
    assert m.model_performance()["AUC"] == perf["AUC"]   # trained on all 380 rows: the same
    imp = m.varimp(use_pandas=True)
    assert list(imp.columns) == ["variable", "relative_importance", "scaled_importance",
                                 "percentage"]
    assert sorted(imp.variable) == ["AGE", "GLEASON", "PSA", "RACE"]
    assert imp.percentage.sum() == pytest.approx(1.0) and imp.scaled_importance.max() == 1.0
    assert m.varimp()[0][0] == imp.variable[0]
    hist = m.scoring_history()
    assert {"epochs", "samples", "training_logloss"} <= set(hist.columns)
    assert hist.epochs.iloc[-1] == pytest.approx(5, rel=0.01)


def test_predict_equals_the_predict_command(prostate, tmp_path):
    """The API's predictions are those of ``mpidl predict`` on the same model file."""
    m = DeepLearningEstimator(**SMALL, ignored_columns=["ID"]).train(y="CAPSULE",
                                                                      training_frame=prostate)
    csv = tmp_path / "p.csv"
    prostate.to_csv(csv, index=False)
    model = tmp_path / "m.h5"
    write_model(str(model), m.model_)
    r = mpidl("predict", model, csv, "-o", tmp_path / "out.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    want = pd.read_csv(tmp_path / "out.csv")
    got = m.predict(prostate)
    np.testing.assert_allclose(got.p1, want.p1, rtol=1e-6)
    assert (got.predict.astype(int) == want.predict).all()


def test_fit_follows_scikit_learn(prostate):
    X = prostate[["AGE", "PSA", "GLEASON"]].to_numpy()
    y = prostate.CAPSULE.astype(int).to_numpy()
    clf = DeepLearningEstimator(**SMALL).fit(X, y)
    assert list(clf.classes_) == [0, 1]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert clf.score(X, y) == pytest.approx(np.mean(clf.predict(X) == y))
    reg = DeepLearningEstimator(**SMALL).fit(X, prostate.VOL.to_numpy(dtype=float))
    assert not hasattr(reg, "classes_")
    assert reg.score(X, prostate.VOL) == pytest.approx(r2_score(prostate.VOL, reg.predict(X)))
    labels = np.where(y == 1, "yes", "no")
    assert set(DeepLearningEstimator(**SMALL).fit(X, labels).predict(X)) <= {"yes", "no"}


def test_cross_validation_metrics_from_the_estimator(prostate):
    """nfolds through the API: H2O's xval metrics, the mean of the fold summary's logloss close
    to the pooled holdout logloss (the same rows, scored by 3 fold models)."""
    m = DeepLearningEstimator(**SMALL, nfolds=3, ignored_columns=["ID"])
    m.train(y="CAPSULE", training_frame=prostate)
    xval = m.model_performance(xval=True)
    folds = m.model_.cross_validation_metrics_summary["logloss"]
    assert xval["nobs"] == len(prostate)
    assert xval["logloss"] == pytest.approx(folds["mean"], rel=0.15)
    with pytest.raises(ValueError, match="keep_cross_validation_predictions"):
        DeepLearningEstimator(**SMALL, nfolds=3, keep_cross_validation_predictions=True).train(
            y="CAPSULE", training_frame=prostate)


def test_parameters_are_h2os_and_checked(prostate):
    with pytest.raises(TypeError, match="unknown parameter 'hiden'.*hidden"):
        DeepLearningEstimator(hiden=[4])
    est = DeepLearningEstimator(epochs=-1)          # scikit-learn: checked when fitting
    with pytest.raises(ValueError, match="epochs"):
        est.fit(np.zeros((4, 1)), [0, 1, 0, 1])
    assert clone(DeepLearningEstimator(**SMALL)).get_params()["hidden"] == [8]


def test_drops_into_pipelines_and_grid_search(prostate):
    X = prostate[["AGE", "PSA", "GLEASON", "VOL"]].to_numpy()
    y = prostate.CAPSULE.astype(int).to_numpy()
    pipe = make_pipeline(StandardScaler(), DeepLearningEstimator(**SMALL))
    assert 0.5 < pipe.fit(X, y).score(X, y) <= 1
    search = GridSearchCV(DeepLearningEstimator(**SMALL), {"hidden": [[4], [8]]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["hidden"] in ([4], [8])


def test_scikit_learn_estimator_checks():
    est = DeepLearningEstimator(hidden=[4], epochs=2, seed=1, reproducible=True, quiet_mode=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None, expected_failed_checks=EXPECTED_FAILED)
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in results
           if r["status"] == "failed"]
    assert bad == []
    assert sum(r["status"] == "passed" for r in results) >= 40
