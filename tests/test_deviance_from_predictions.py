"""mean_residual_deviance as reported equals H2O-3's formula applied to the written predictions.

For each distribution a tiny model is trained on the bundled prostate data with
``python -m mpidl train``, its predictions are written with ``python -m mpidl predict``, and the
deviance is recomputed here in plain numpy with H2O-3's per-row formula
(``hex/DistributionFactory.java``, the ``deviance`` methods; see docs/quirks.md) and compared
with ``training_metrics`` of ``inspect --json``.  Classification models report no deviance, as
H2O's binomial and multinomial metrics hold none.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import mpidl

PROSTATE = Path(__file__).resolve().parents[1] / "data" / "prostate.csv"


def _column(name: str) -> np.ndarray:
    header = PROSTATE.read_text().splitlines()[0].split(",")
    return np.loadtxt(PROSTATE, delimiter=",", skiprows=1, usecols=header.index(name))


def _poisson(y, f):
    # y*log(y/f) is 0 at y = 0 (H2O: 0 times its log(0) = -19)
    ylog = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / f), 0.0)
    return 2 * (ylog - y + f)


def _huber(y, f, alpha):
    r = np.abs(y - f)
    delta = np.quantile(r, alpha)  # unit weights: H2O's interpolated quantile is numpy's default
    return np.where(r <= delta, r * r, (2 * r - delta) * delta)


def _tweedie(y, f, p):
    return 2 * (y ** (2 - p) / ((1 - p) * (2 - p)) - y * f ** (1 - p) / (1 - p)
                + f ** (2 - p) / (2 - p))


# distribution, response, extra parameters, per-row deviance of (y, f)
REGRESSION = [
    ("gaussian", "PSA", {}, lambda y, f: (y - f) ** 2),
    ("laplace", "PSA", {}, lambda y, f: np.abs(y - f)),
    ("quantile", "PSA", {"quantile_alpha": 0.3},
     lambda y, f: np.where(y > f, 0.3 * (y - f), 0.7 * (f - y))),
    ("huber", "PSA", {"huber_alpha": 0.8}, lambda y, f: _huber(y, f, 0.8)),
    ("poisson", "VOL", {}, _poisson),                       # VOL: 167 of 380 rows are 0
    ("gamma", "PSA", {}, lambda y, f: 2 * (np.log(f / y) + y / f - 1)),
    ("tweedie", "VOL", {"tweedie_power": 1.3}, lambda y, f: _tweedie(y, f, 1.3)),
]


def _train_predict_inspect(tmp_path: Path, **params) -> tuple[np.ndarray, dict, Path]:
    """(predictions file as a structured array, inspect --json, model path) of a tiny model."""
    job = {"training_frame": str(PROSTATE), "ignored_columns": ["ID"], "hidden": [5],
           "epochs": 2, "seed": 7, "reproducible": True, **params}
    (tmp_path / "job.toml").write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in job.items()))
    model, preds = tmp_path / "m.h5", tmp_path / "p.csv"
    for args in (("train", "job.toml", "--threads", "1", "-o", model),
                 ("predict", model, PROSTATE, "-o", preds)):
        proc = mpidl(*args, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    proc = mpidl("inspect", model, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = np.genfromtxt(preds, delimiter=",", names=True, dtype=None, encoding="utf-8")
    return table, json.loads(proc.stdout), model


@pytest.mark.parametrize("dist,response,extra,deviance", REGRESSION, ids=[r[0] for r in REGRESSION])
def test_reported_deviance_is_h2os_formula_on_written_predictions(tmp_path, dist, response,
                                                                  extra, deviance):
    table, report, _ = _train_predict_inspect(tmp_path, response_column=response,
                                              distribution=dist, **extra)
    y, f = _column(response), table["predict"].astype(float)
    expected = float(np.mean(deviance(y, f)))
    got = report["training_metrics"]["mean_residual_deviance"]
    assert got == pytest.approx(expected, rel=1e-6)
    assert got >= 0


@pytest.mark.parametrize("dist,response", [("bernoulli", "CAPSULE"), ("multinomial", "DPROS")])
def test_classification_reports_no_deviance(tmp_path, dist, response):
    """H2O's binomial and multinomial metrics hold no deviance; MSE and logloss match the
    written probabilities (the actual class's column, as H2O)."""
    table, report, _ = _train_predict_inspect(tmp_path, response_column=response,
                                              distribution=dist)
    metrics = report["training_metrics"]
    assert "mean_residual_deviance" not in metrics
    y = _column(response).astype(int)
    levels = sorted(set(y.tolist()))
    probs = np.column_stack([table[f"p{v}"] for v in levels])  # H2O: p + an integer level
    p_actual = probs[np.arange(y.size), np.searchsorted(levels, y)]
    assert metrics["MSE"] == pytest.approx(np.mean((1 - p_actual) ** 2), rel=1e-6)
    logloss = -np.mean(np.log(np.maximum(1e-15, p_actual)))
    assert metrics["logloss"] == pytest.approx(logloss, rel=1e-6)


def test_auto_stopping_on_deviance_keeps_the_lowest(tmp_path):
    """AUTO = deviance for regression, lower is better: the restored best model's deviance is the
    smallest of the scoring history, and every poisson deviance is non-negative."""
    _, report, _ = _train_predict_inspect(
        tmp_path, response_column="VOL", distribution="poisson", epochs=3,
        train_samples_per_iteration=60, score_each_iteration=True, stopping_rounds=2)
    history = [r["training_deviance"] for r in report["scoring_history"]]
    assert len(history) >= 4
    assert min(history) >= 0
    assert report["training_metrics"]["mean_residual_deviance"] == pytest.approx(min(history))
