"""``plot`` and ``report`` on small prostate models: the PNGs exist, decode and have sane sizes,
the HTML page holds every section with its figures inlined, and (when chromium is installed)
renders in a real browser; the ROC points kept in the metrics are the exact curve."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_run import mpidl, prostate

from mpidl.html_report import SECTIONS
from mpidl.metrics import binomial_metrics

from matplotlib.image import imread  # the [test] extra brings matplotlib (and [plot])


def _ok(*args, cwd):
    proc = mpidl(*args, cwd=cwd)
    assert proc.returncode == 0, f"mpidl {args} exited {proc.returncode}:\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    """A binomial model with a validation frame, and a regression model."""
    d = tmp_path_factory.mktemp("plots")
    out = {}
    for name, response, extra in (("binomial", "CAPSULE", 'distribution = "bernoulli"\n'
                                   f'validation_frame = "{prostate()}"\n'),
                                  ("regression", "AGE", "")):
        job = d / f"{name}.toml"
        job.write_text(f'training_frame = "{prostate()}"\nresponse_column = "{response}"\n'
                       f'ignored_columns = ["ID"]\nhidden = [8]\nepochs = 4\nseed = 3\n'
                       f"score_interval = 0\nscore_duty_cycle = 1\n{extra}")
        out[name] = d / f"{name}.h5"
        _ok("train", job, "--threads", "1", "-o", out[name], cwd=d)
    return out


def _png(path: Path, largest: int = 2000) -> np.ndarray:
    assert path.is_file(), path
    img = imread(path)                 # decodes the PNG; float RGB(A) in [0, 1]
    h, w = img.shape[:2]
    assert 200 <= w <= largest and 200 <= h <= largest, (path, img.shape)
    assert img[..., :3].std() > 0.01, f"{path}: a blank image"
    return img


def test_plot_binomial_writes_every_figure(models, tmp_path):
    proc = _ok("plot", models["binomial"], "-o", tmp_path, cwd=tmp_path)
    names = {"scoring_history.png", "variable_importance.png", "confusion_matrix.png",
             "roc.png"}
    assert {p.name for p in tmp_path.iterdir()} == names
    for name in names:
        _png(tmp_path / name)
        assert f"wrote {tmp_path / name}" in proc.stdout


def test_plot_regression_has_no_classifier_figures(models, tmp_path):
    _ok("plot", models["regression"], "-o", tmp_path, cwd=tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"scoring_history.png",
                                                    "variable_importance.png"}
    assert _png(tmp_path / "scoring_history.png").shape[1] > \
        _png(tmp_path / "scoring_history.png").shape[0]       # two panels side by side


def test_report_holds_every_section_self_contained(models, tmp_path):
    page_path = tmp_path / "report.html"
    _ok("report", models["binomial"], "-o", page_path, cwd=tmp_path)
    page = page_path.read_text()
    for section in SECTIONS:
        assert f">{section}</h2>" in page, section
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 4
    assert not re.search(r'(src|href)="(https?:|file:|//)', page)
    assert "<script" not in page and "<link" not in page
    for expected in ("GLEASON", "relative_importance", "Softmax", "validation", "AUC",
                     "training_logloss"):
        assert expected in page, expected


def _chromium() -> str | None:
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                        "google-chrome")) if p), None)


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed: the page is "
                    "checked as HTML only (apt-get install chromium to render it)")
def test_report_renders_in_headless_chromium(models, tmp_path):
    page_path = tmp_path / "report.html"
    _ok("report", models["binomial"], "-o", page_path, cwd=tmp_path)
    shot = tmp_path / "shot.png"
    subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1200,2400",
                    page_path.as_uri()], capture_output=True, timeout=120, check=True)
    img = _png(shot, largest=2400)
    assert img.shape[:2] == (2400, 1200)
    # the page drew more than its background: figures and tables cover a good part of it
    assert (img[..., :3].mean(axis=2) < 0.9).mean() > 0.02


def test_roc_points_are_the_exact_curve_with_few_distinct_probabilities():
    rng = np.random.default_rng(1)
    p = np.round(rng.uniform(size=300), 2)          # 101 distinct values < 400 bins: exact
    y = (rng.uniform(size=300) < p).astype(int)
    roc = np.array(binomial_metrics(y, p)["roc"])
    thresholds = np.unique(p)[::-1]
    np.testing.assert_allclose(roc[:, 0], thresholds)
    fpr = [((p >= t) & (y == 0)).sum() / (y == 0).sum() for t in thresholds]
    tpr = [((p >= t) & (y == 1)).sum() / (y == 1).sum() for t in thresholds]
    np.testing.assert_allclose(roc[:, 1], fpr, rtol=1e-12)
    np.testing.assert_allclose(roc[:, 2], tpr, rtol=1e-12)


def test_plot_of_a_model_written_before_importances_and_roc(tmp_path):
    old = Path(__file__).resolve().parent / "adversarial" / "data" / "model_before_checksums.h5"
    _ok("plot", old, "-o", tmp_path, cwd=tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert "variable_importance.png" not in names and "roc.png" not in names
    assert "scoring_history.png" in names
    for name in names:
        _png(tmp_path / name)
