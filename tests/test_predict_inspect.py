"""``predict`` and ``inspect`` on small prostate models, through the command line.

Binomial (CAPSULE), regression (AGE): H2O's prediction columns, probabilities, the max-F1
threshold rule, consistency with the model's own training metrics, CSV vs HDF5 input, and
the text / JSON reports of ``inspect``.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_run import mpidl, prostate


def _mpidl(*args, cwd) -> subprocess.CompletedProcess:
    proc = mpidl(*args, cwd=cwd)
    assert proc.returncode == 0, f"mpidl {args} exited {proc.returncode}:\n{proc.stderr}"
    return proc


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _column(path: Path, name: str) -> np.ndarray:
    header, rows = _read_csv(path)
    i = header.index(name)
    return np.array([float(r[i]) for r in rows])


def _train(d: Path, name: str, response: str, **extra) -> Path:
    lines = [f'training_frame = "{prostate()}"', f'response_column = "{response}"',
             'ignored_columns = ["ID"]', "hidden = [10]", "epochs = 10", "seed = 7"]
    lines += [f"{k} = {v}" for k, v in extra.items()]
    job = d / f"{name}.toml"
    job.write_text("\n".join(lines) + "\n")
    out = d / f"{name}.h5"
    _mpidl("train", job, "--threads", "1", "-o", out, cwd=d)
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("predict_inspect")


@pytest.fixture(scope="module")
def binomial(work) -> Path:
    return _train(work, "capsule", "CAPSULE", distribution='"bernoulli"')


@pytest.fixture(scope="module")
def regression(work) -> Path:
    return _train(work, "age", "AGE")


@pytest.fixture(scope="module")
def binomial_report(work, binomial) -> dict:
    return json.loads(_mpidl("inspect", binomial, "--json", cwd=work).stdout)


@pytest.fixture(scope="module")
def binomial_preds(work, binomial) -> Path:
    out = work / "capsule_preds.csv"
    proc = _mpidl("predict", binomial, prostate(), "-o", out, cwd=work)
    assert "380" in proc.stdout
    return out


# ------------------------------------------------------------------------------ predict

def test_binomial_prediction_columns_and_probabilities(binomial_preds):
    header, rows = _read_csv(binomial_preds)
    assert header == ["predict", "p0", "p1"]  # H2O: p + integer level
    assert len(rows) == 380
    p = np.array([[float(r[1]), float(r[2])] for r in rows])
    assert np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert {r[0] for r in rows} <= {"0", "1"}
    assert len({r[0] for r in rows}) == 2, "a trained model should predict both classes here"


def test_binomial_labels_follow_max_f1_threshold(binomial_preds, binomial_report):
    thr = binomial_report["training_metrics"]["max_f1_threshold"]
    assert 0 < thr < 1
    header, rows = _read_csv(binomial_preds)
    labels = np.array([int(r[0]) for r in rows])
    p1 = np.array([float(r[2]) for r in rows])
    # p1 is printed with 8 significant digits: ignore rows within rounding of the threshold
    clear = np.abs(p1 - thr) > 1e-7
    assert clear.sum() >= 370
    np.testing.assert_array_equal(labels[clear], (p1[clear] >= thr).astype(int))


def test_binomial_predictions_reproduce_training_metrics(binomial_preds, binomial_report):
    """The model scored all 380 training rows (score_training_samples 10000 > 380), so the
    logloss / MSE / error recomputed from ``predict``'s output must match its metrics."""
    m = binomial_report["training_metrics"]
    assert m["nobs"] == 380
    y = _column(prostate(), "CAPSULE")
    header, rows = _read_csv(binomial_preds)
    p1 = np.array([float(r[2]) for r in rows])
    labels = np.array([int(r[0]) for r in rows])
    eps = 1e-15
    logloss = -np.mean(y * np.log(np.clip(p1, eps, 1)) + (1 - y) * np.log(np.clip(1 - p1, eps, 1)))
    assert logloss == pytest.approx(m["logloss"], rel=1e-4)
    assert np.mean((y - p1) ** 2) == pytest.approx(m["MSE"], rel=1e-4)
    assert np.mean(labels != y) == pytest.approx(m["classification_error"], abs=1e-9)


def test_predict_hdf5_equals_csv(work, binomial, binomial_preds):
    h5 = work / "prostate.h5"
    _mpidl("import", prostate(), "-o", h5, cwd=work)
    out = work / "capsule_preds_h5.csv"
    _mpidl("predict", binomial, h5, "-o", out, cwd=work)
    assert out.read_text() == binomial_preds.read_text()


def test_predict_without_response_column(work, binomial, binomial_preds):
    """New data need not carry the response."""
    header, rows = _read_csv(prostate())
    keep = [i for i, h in enumerate(header) if h != "CAPSULE"]
    nores = work / "prostate_noresponse.csv"
    with open(nores, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([header[i] for i in keep])
        w.writerows([r[i] for i in keep] for r in rows)
    out = work / "capsule_preds_nores.csv"
    _mpidl("predict", binomial, nores, "-o", out, cwd=work)
    assert out.read_text() == binomial_preds.read_text()


def test_regression_predicts_one_column(work, regression):
    out = work / "age_preds.csv"
    _mpidl("predict", regression, prostate(), "-o", out, cwd=work)
    header, rows = _read_csv(out)
    assert header == ["predict"]
    assert len(rows) == 380 and all(len(r) == 1 for r in rows)
    pred = np.array([float(r[0]) for r in rows])
    assert np.all(np.isfinite(pred))
    age = _column(prostate(), "AGE")
    assert 40 < pred.mean() < 85  # on the response scale, not standardized
    report = json.loads(_mpidl("inspect", regression, "--json", cwd=work).stdout)
    m = report["training_metrics"]
    assert report["response_domain"] in (None, [])
    assert np.mean((pred - age) ** 2) == pytest.approx(m["MSE"], rel=1e-4)


# ------------------------------------------------------------------------------ inspect

def test_inspect_text(work, binomial):
    text = _mpidl("inspect", binomial, cwd=work).stdout
    assert "Status of neuron layers" in text
    for word in ("Input", "Rectifier", "Softmax", "Scoring history", "training metrics",
                 "AUC", "logloss", "CAPSULE"):
        assert word in text, word


def test_inspect_text_regression(work, regression):
    text = _mpidl("inspect", regression, cwd=work).stdout
    assert "Status of neuron layers" in text
    for word in ("Input", "Rectifier", "Linear", "regression", "AGE"):
        assert word in text, word


def test_inspect_json(binomial_report):
    r = binomial_report
    for key in ("parameters", "layers", "scoring_history", "training_metrics"):
        assert key in r, key
    p = r["parameters"]
    assert p["response_column"] == "CAPSULE" and p["hidden"] == [10] and p["epochs"] == 10
    assert [l["type"] for l in r["layers"]] == ["Input", "Rectifier", "Softmax"]
    assert [l["units"] for l in r["layers"]] == [7, 10, 2]
    hist = r["scoring_history"]
    assert len(hist) >= 1
    for row in hist:
        for key in ("duration", "training_speed", "iterations", "epochs", "samples",
                    "training_rmse", "training_logloss", "training_classification_error"):
            assert key in row, key
    assert hist[-1]["epochs"] == pytest.approx(10)
    assert hist[-1]["samples"] == 3800
    epochs = [row["epochs"] for row in hist]
    assert epochs == sorted(epochs)
    m = r["training_metrics"]
    for key in ("MSE", "RMSE", "logloss", "AUC", "classification_error",
                "mean_per_class_error", "r2"):
        assert key in m and math.isfinite(m[key]), key
    assert m["RMSE"] == pytest.approx(math.sqrt(m["MSE"]))
    assert 0.5 < m["AUC"] <= 1
    assert not r["validation_metrics"]
