"""``plot``, ``report`` and ``inspect`` of an autoencoder (issue 14 point 4, spec 11 and 13.2):
a small prostate autoencoder scored against a validation frame several times.

The scoring history holds H2O's autoencoder column, the reconstruction MSE (``training_mse``,
``validation_mse``); its last value is checked against ``mpidl anomaly`` on the same rows (the
mean of the per-row Reconstruction.MSE), and the plotted points against the history.  No
confusion matrix and no ROC: an autoencoder has no classes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from cli_run import mpidl, prostate
from matplotlib.image import imread  # the [test] extra brings matplotlib (and [plot])

from mpidl.checkpoint import read_model
from mpidl.html_report import SECTIONS
from mpidl.plots import scoring_history_figure


def _ok(*args, cwd) -> str:
    proc = mpidl(*args, cwd=cwd)
    assert proc.returncode == 0, f"mpidl {args} exited {proc.returncode}:\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def autoencoder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("ae_views")
    job = d / "ae.toml"
    job.write_text(f'training_frame = "{prostate()}"\nvalidation_frame = "{prostate()}"\n'
                   'autoencoder = true\nignored_columns = ["ID"]\nactivation = "Tanh"\n'
                   "hidden = [5]\nepochs = 4\nseed = 3\nscore_interval = 0\n"
                   "score_duty_cycle = 1\n")
    _ok("train", job, "--threads", "1", "-o", d / "ae.h5", cwd=d)
    return d / "ae.h5"


def _anomaly_mean(model: Path, cwd: Path) -> float:
    """The mean of `mpidl anomaly`'s Reconstruction.MSE over the prostate rows."""
    _ok("anomaly", model, prostate(), "-o", cwd / "errors.csv", cwd=cwd)
    return float(np.loadtxt(cwd / "errors.csv", skiprows=1).mean())


def test_history_holds_the_reconstruction_mse(autoencoder, tmp_path):
    history = read_model(autoencoder).history
    assert len(history) >= 3
    for row in history:
        assert row["training_mse"] == pytest.approx(row["training_rmse"] ** 2, rel=1e-9)
        assert row["validation_mse"] == pytest.approx(row["validation_rmse"] ** 2, rel=1e-9)
        assert not any(k.endswith(("logloss", "auc", "classification_error", "deviance"))
                       for k in row)
    mean = _anomaly_mean(autoencoder, tmp_path)   # every training row is scored (380 < 10,000)
    assert history[-1]["training_mse"] == pytest.approx(mean, rel=1e-5)
    assert history[-1]["validation_mse"] == pytest.approx(mean, rel=1e-5)


def test_plot_draws_the_reconstruction_mse_and_no_classifier_figures(autoencoder, tmp_path):
    _ok("plot", autoencoder, "-o", tmp_path, cwd=tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"scoring_history.png",
                                                    "variable_importance.png"}
    for name in ("scoring_history.png", "variable_importance.png"):
        img = imread(tmp_path / name)
        assert 200 <= min(img.shape[:2]) and max(img.shape[:2]) <= 2000
        assert img[..., :3].std() > 0.01, f"{name}: a blank image"
    model = read_model(autoencoder)
    fig = scoring_history_figure(model)
    by_epochs = fig.axes[0]
    assert by_epochs.get_ylabel() == "reconstruction MSE"
    lines = {ln.get_label(): ln for ln in by_epochs.get_lines()}
    for kind in ("training", "validation"):
        np.testing.assert_allclose(lines[kind].get_ydata(),
                                   [r[f"{kind}_mse"] for r in model.history])
        np.testing.assert_allclose(lines[kind].get_xdata(), [r["epochs"] for r in model.history])


def test_report_of_an_autoencoder(autoencoder, tmp_path):
    page_path = tmp_path / "report.html"
    _ok("report", autoencoder, "-o", page_path, cwd=tmp_path)
    page = page_path.read_text()
    for section in SECTIONS:
        assert f">{section}</h2>" in page, section
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 2   # history, importances
    assert "(autoencoder: no confusion matrix)" in page
    assert "(binary classifiers only)" in page and 'alt="ROC"' not in page
    assert "<th>training_mse</th>" in page and "<th>validation_mse</th>" in page
    assert "autoencoder of 8 inputs" in page


def test_inspect_of_an_autoencoder(autoencoder, tmp_path):
    text = _ok("inspect", autoencoder, cwd=tmp_path)
    assert "autoencoder of 8 inputs" in text and "training_mse" in text
    assert "Confusion" not in text and "AUC" not in text
    report = json.loads(_ok("inspect", autoencoder, "--json", cwd=tmp_path))
    assert [layer["type"] for layer in report["layers"]] == ["Input", "Tanh", "Tanh"]
    assert [layer["units"] for layer in report["layers"]] == [8, 5, 8]
    for which in ("training_metrics", "validation_metrics"):
        assert set(report[which]) == {"MSE", "RMSE", "nobs"}, report[which]
        assert report[which]["nobs"] == 380
    assert report["scoring_history"][-1]["training_mse"] == report["training_metrics"]["MSE"]
