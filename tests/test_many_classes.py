"""Metrics of a response with many classes stay bounded (H2O's max_confusion_matrix_size)."""

import json
import tracemalloc

import numpy as np
import pytest
from cli_run import mpidl

from mpidl.data.hdf5 import write_table
from mpidl.metrics import multinomial_metrics


def test_20000_classes_omit_the_confusion_matrix_in_bounded_memory():
    k, n = 20_000, 60
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, n)
    probs = rng.random((n, k))
    probs /= probs.sum(axis=1, keepdims=True)
    tracemalloc.start()
    m = multinomial_metrics(y, probs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # a K x K float64 matrix alone would be 3.2 GB; the rows' probabilities are 9.6 MB
    assert peak < 100 * 2**20
    assert "confusion_matrix" not in m
    assert m["confusion_matrix_omitted"] == "20000 classes > max_confusion_matrix_size (20)"
    pred = probs.argmax(axis=1)
    assert m["classification_error"] == pytest.approx(np.mean(pred != y))
    present = np.unique(y)
    per_class = [np.mean(pred[y == c] != c) for c in present]
    assert m["mean_per_class_error"] == pytest.approx(np.sum(per_class) / k)
    assert len(m["hit_ratios"]) == 10


def test_the_limit_is_a_parameter_and_small_responses_keep_the_matrix():
    y = np.array([0, 1, 2, 2])
    probs = np.eye(3)[[0, 1, 1, 2]]
    assert multinomial_metrics(y, probs)["confusion_matrix"][2] == [0.0, 1.0, 1.0]
    m = multinomial_metrics(y, probs, max_confusion_matrix_size=2)
    assert "confusion_matrix" not in m and m["confusion_matrix_omitted"].startswith("3 classes")
    assert m["classification_error"] == pytest.approx(0.25)


def test_training_on_a_20000_class_response_stays_bounded_and_says_omitted(tmp_path):
    k, n = 20_000, 200
    rng = np.random.default_rng(1)
    levels = [f"L{i}" for i in range(k)]
    write_table(tmp_path / "many.h5", {"a": rng.standard_normal(n), "b": rng.standard_normal(n),
                                       "y": rng.integers(0, k, n).astype(np.int32)},
                {"y": levels})
    (tmp_path / "job.toml").write_text(
        'training_frame = "many.h5"\nresponse_column = "y"\nhidden = [4]\nepochs = 1\n'
        'seed = 1\nreproducible = true\n')
    run = mpidl("train", "job.toml", "-o", "m.h5", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    info = json.loads(mpidl("inspect", "m.h5", "--json", cwd=tmp_path).stdout)
    m = info["training_metrics"]
    assert m["confusion_matrix_omitted"] == "20000 classes > max_confusion_matrix_size (20)"
    assert "confusion_matrix" not in m and len(m["hit_ratios"]) == 10
    # a 20,000 x 20,000 float64 matrix alone is 3,052 MB
    assert max(info["memory"]["peak_rss_mb"]) < 1500
    text = mpidl("inspect", "m.h5", cwd=tmp_path).stdout
    assert "confusion matrix omitted: 20000 classes > max_confusion_matrix_size (20)" in text
