"""balance_classes (H2O's ``MRUtils.sampleFrameStratified`` and
``GenModel.correctProbabilities``): the per-class sampling ratios and the sampled class counts
against targets computed by hand from H2O's formulas, the probability correction against the
formula worked by hand, the parameter rules, and the model file keeping the two class
distributions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from mpidl.comm import SerialComm
from mpidl.errors import UserError
from mpidl.model.class_dist import correct_probabilities
from mpidl.params import validate, validate_for_data
from mpidl.train.balance import balance_shard, draw_rows, sampling_ratios
from mpidl.train.setup import Shard

COUNTS = np.array([850.0, 120.0, 30.0])      # a skewed 3-class frame of 1000 rows
LEVELS = ["a", "b", "c"]


def test_balanced_ratios_give_every_class_the_majority_count():
    r = sampling_ratios(COUNTS, 1000, None, 5.0, LEVELS, "y")
    # (1000 / 3) / count, divided by the smallest (the majority's): 850 / count
    np.testing.assert_allclose(r, [1.0, 850 / 120, 850 / 30])
    np.testing.assert_allclose(r * COUNTS, [850, 850, 850])


def test_max_after_balance_size_caps_the_rows():
    r = sampling_ratios(COUNTS, 1000, None, 2.0, LEVELS, "y")
    # 2550 expected rows > 2 x 1000: every ratio scaled by 2000 / 2550
    np.testing.assert_allclose(r * COUNTS, [2000 / 3] * 3)


def test_class_sampling_factors_are_the_ratios():
    r = sampling_ratios(COUNTS, 1000, [1.0, 2.0, 0.5], 5.0, LEVELS, "y")
    np.testing.assert_allclose(r, [1.0, 2.0, 0.5])          # 1105 rows: under the cap
    capped = sampling_ratios(COUNTS, 1000, [1.0, 2.0, 0.5], 0.5, LEVELS, "y")
    np.testing.assert_allclose(capped, np.array([1.0, 2.0, 0.5]) * 500 / 1105)


def test_a_class_without_rows_cannot_be_balanced():
    with pytest.raises(UserError, match="class 'c' of response 'y' has no training rows"):
        sampling_ratios(np.array([10.0, 5.0, 0.0]), 15, None, 5.0, LEVELS, "y")


def test_whole_ratios_repeat_each_row_exactly():
    y = np.repeat([0, 1, 2], [50, 7, 3]).astype(np.float64)
    idx = draw_rows(y, np.array([1.0, 3.0, 2.0]), seed=5, first_row=0, attempt=0)
    np.testing.assert_array_equal(np.bincount(y[idx].astype(int)), [50, 21, 6])
    np.testing.assert_array_equal(np.bincount(idx, minlength=60), [1] * 50 + [3] * 7 + [2] * 3)


def test_fractional_ratios_keep_rows_with_their_remainder():
    y = np.zeros(20000)
    counts = [draw_rows(y, np.array([1.5]), seed=s, first_row=0, attempt=0).size
              for s in range(3)]
    for c in counts:   # 20000 + Binomial(20000, 0.5): sd 71
        assert abs(c - 30000) < 5 * 71
    assert len(set(counts)) == 3                     # the seed changes the draw
    again = draw_rows(y, np.array([1.5]), seed=0, first_row=0, attempt=0)
    assert again.size == counts[0]                   # and fixes it


def _model(factors=None, max_after=5.0):
    params = SimpleNamespace(class_sampling_factors=factors, max_after_balance_size=max_after,
                             seed=11)
    dinfo = SimpleNamespace(nclasses=3, response_domain=LEVELS, response="y")
    return SimpleNamespace(params=params, dinfo=dinfo)


def _shard(counts=(850, 120, 30)) -> Shard:
    y = np.repeat(np.arange(3), counts).astype(np.float64)
    n = y.size
    arrays = [np.arange(2 * n, dtype=np.float32).reshape(n, 2), np.zeros((n, 0), np.int32),
              y, np.ones(n), np.arange(n, dtype=np.int64)]
    for a in arrays:
        a.setflags(write=False)      # as the node's shared rows: only read
    return Shard(*arrays[:4], 0, arrays[4])


def test_balance_shard_counts_and_distributions():
    model, shard = _model(), _shard()
    out = balance_shard(shard, model, SerialComm(), False, lambda _: None)
    counts = np.bincount(out.y.astype(int))
    # targets 850 each: class a kept whole; b 7 or 8 copies, c 28 or 29 copies per row
    assert counts[0] == 850
    assert abs(counts[1] - 850) < 5 * np.sqrt(120 * 0.25) and abs(counts[2] - 850) < 5 * np.sqrt(30 * 0.25)
    np.testing.assert_allclose(model.prior_class_dist, [0.85, 0.12, 0.03])
    np.testing.assert_allclose(model.model_class_dist, counts / counts.sum())
    # the rows travel together: each sampled row is its source row
    np.testing.assert_array_equal(out.nums[:, 0], 2 * out.kept)
    np.testing.assert_array_equal(out.y, shard.y[out.kept])
    assert out.nums.flags.writeable and out.nums is not shard.nums


def test_balance_shard_with_factors_and_cap():
    model = _model(factors=[0.5, 2.0, 4.0], max_after=0.5)
    out = balance_shard(_shard(), model, SerialComm(), False, lambda _: None)
    # 425 + 240 + 120 = 785 expected rows, capped at 500: ratios x 500/785
    target = np.array([425.0, 240.0, 120.0]) * 500 / 785
    sd = np.sqrt(np.array([850, 120, 30]) * 0.25)
    assert np.all(np.abs(np.bincount(out.y.astype(int)) - target) < 5 * sd)


def test_correct_probabilities_by_hand():
    probs = np.array([[0.5, 0.3, 0.2], [0.0, 0.0, 0.0]])
    got = correct_probabilities(probs, [0.85, 0.12, 0.03], [1 / 3, 1 / 3, 1 / 3])
    # 0.5 x 0.85 = 0.425, 0.3 x 0.12 = 0.036, 0.2 x 0.03 = 0.006; sum 0.467
    np.testing.assert_allclose(got[0], [0.425 / 0.467, 0.036 / 0.467, 0.006 / 0.467])
    np.testing.assert_array_equal(got[1], [0, 0, 0])
    # a class with a zero distribution keeps its probability before renormalizing
    one = correct_probabilities(np.array([[0.6, 0.4]]), [0.0, 0.5], [0.5, 0.25])
    np.testing.assert_allclose(one[0], [0.6 / 1.4, 0.8 / 1.4])


def test_parameter_rules():
    with pytest.raises(UserError, match="'class_sampling_factors': needs balance_classes = true"):
        validate({"training_frame": "t.h5", "response_column": "y",
                  "class_sampling_factors": [1, 2]}, "job.toml")
    with pytest.raises(UserError, match="'class_sampling_factors': expected a list of numbers each > 0"):
        validate({"training_frame": "t.h5", "response_column": "y", "balance_classes": True,
                  "class_sampling_factors": [1, -2]}, "job.toml")
    p = validate({"training_frame": "t.h5", "response_column": "y", "balance_classes": True,
                  "class_sampling_factors": [1, 2]}, "job.toml")
    validate_for_data(p, True, 2, "t.h5")
    with pytest.raises(UserError, match="needs one factor per class of 'y': 3, got 2"):
        validate_for_data(p, True, 3, "t.h5")
    with pytest.raises(UserError, match="'balance_classes': needs a categorical response"):
        validate_for_data(p, False, 1, "t.h5")


def _skewed_frame(n=1500, seed=1):
    import pandas as pd
    rng = np.random.default_rng(seed)
    y = rng.choice(LEVELS, size=n, p=[0.8, 0.15, 0.05])
    x = rng.normal(size=(n, 2)) + (y == "b")[:, None] * 1.0 + (y == "c")[:, None] * 2.0
    return pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y})


def test_trained_model_corrects_its_probabilities_and_keeps_the_distributions(tmp_path):
    from mpidl import DeepLearningEstimator
    from mpidl.checkpoint import read_model, write_model
    frame = _skewed_frame()
    est = DeepLearningEstimator(hidden=[6], epochs=2, seed=4, balance_classes=True,
                                quiet_mode=True, reproducible=True)
    est.train(y="y", training_frame=frame)
    model = est.model_
    prior = frame.y.value_counts(normalize=True).reindex(LEVELS).to_numpy()
    np.testing.assert_allclose(model.prior_class_dist, prior)
    sampled = np.array(model.model_class_dist)
    np.testing.assert_allclose(sampled, [1 / 3] * 3, atol=0.03)   # balanced
    # epochs count the resampled rows: every class brought to the majority's count
    majority = int((frame.y == "a").sum())
    assert abs(model.training_rows - 3 * majority) < 5 * np.sqrt(len(frame) * 0.25)
    write_model(tmp_path / "m.h5", model)
    back = read_model(tmp_path / "m.h5")
    assert back.prior_class_dist == model.prior_class_dist
    assert back.model_class_dist == model.model_class_dist
    from mpidl.report import json_report, text_report
    assert json_report(back)["prior_class_dist"] == back.prior_class_dist
    assert "Class distribution (balance_classes" in text_report(back)
    corrected = est.predict_proba(frame)
    model.model_class_dist = None                   # now the network's own softmax
    raw = est.predict_proba(frame)
    by_hand = raw * prior / sampled
    np.testing.assert_allclose(corrected, by_hand / by_hand.sum(axis=1, keepdims=True),
                               rtol=1e-5)


def test_an_older_model_file_has_no_class_distributions():
    from pathlib import Path

    from mpidl.checkpoint import read_model
    old = read_model(Path(__file__).parent / "adversarial" / "data" / "model_before_checksums.h5")
    assert old.prior_class_dist is None and old.model_class_dist is None
