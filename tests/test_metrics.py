"""Hand-worked and brute-force checks of mpidl.metrics."""

import json
import math

import numpy as np
import pytest

from mpidl.metrics import (binomial_metrics, classification_metrics, confusion_matrix_table,
                           metric_value, multinomial_metrics, regression_metrics,
                           weighted_quantile)


def brute_auc(y, p, w):
    num = den = 0.0
    for i in np.flatnonzero(y == 1):
        for j in np.flatnonzero(y == 0):
            pair = w[i] * w[j]
            den += pair
            num += pair * (1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0)
    return num / den


def brute_max_f1(y, p, w):
    """(threshold, f1) maximizing F1 = 2tp/(2tp+fp+fn); ties -> the highest threshold."""
    best = (None, -1.0)
    for t in sorted(set(p.tolist()), reverse=True):
        pred = p >= t
        tp = w[pred & (y == 1)].sum()
        fp = w[pred & (y == 0)].sum()
        fn = w[~pred & (y == 1)].sum()
        f1 = 2 * tp / (2 * tp + fp + fn)
        if f1 > best[1]:
            best = (t, f1)
    return best


def close_dicts(a, b, skip=("nobs",)):
    assert a.keys() == b.keys()
    for key in a:
        if key in skip:
            continue
        np.testing.assert_allclose(np.asarray(a[key], dtype=float),
                                   np.asarray(b[key], dtype=float), rtol=1e-12, atol=1e-12,
                                   err_msg=key)


# ------------------------------------------------------------------------------- binomial

def test_binomial_three_rows_by_hand():
    m = binomial_metrics([1, 0, 1], [0.8, 0.3, 0.4])
    assert m["MSE"] == pytest.approx((0.04 + 0.09 + 0.36) / 3)
    assert m["RMSE"] == pytest.approx(math.sqrt(0.49 / 3))
    assert m["logloss"] == pytest.approx(-(math.log(0.8) + math.log(0.7) + math.log(0.4)) / 3)
    var_y = 2 / 3 - (2 / 3) ** 2
    assert m["r2"] == pytest.approx(1 - (0.49 / 3) / var_y)
    assert m["AUC"] == pytest.approx(1.0)  # both positives above the negative
    assert m["nobs"] == 3


def test_binomial_logloss_clips_at_1e_15():
    m = binomial_metrics([1, 0], [0.0, 1.0])
    assert m["logloss"] == pytest.approx(-math.log(1e-15))


def test_binomial_small_case_by_hand():
    y = np.array([0, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8, 0.7, 0.9])
    m = binomial_metrics(y, p)
    # F1 by threshold: .9->.5, .8->.8, .7->.667, .4->.571, .35->.75, .1->.667
    assert m["max_f1_threshold"] == 0.8
    assert m["confusion_matrix"] == [[3.0, 0.0], [1.0, 2.0]]
    assert m["classification_error"] == pytest.approx(1 / 6)
    assert m["mean_per_class_error"] == pytest.approx((0 + 1 / 3) / 2)
    assert m["AUC"] == pytest.approx(7 / 9)
    # H2O pr_auc: trapezoids over (recall, precision) from the highest threshold
    assert m["pr_auc"] == pytest.approx(31 / 60)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_max_f1_against_brute_force_with_ties_and_weights(seed):
    rng = np.random.default_rng(seed)
    n = 60
    y = rng.integers(0, 2, n)
    p = np.round(np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), 1)  # many ties
    w = rng.choice([0.5, 1.0, 2.0, 3.5], n)
    m = binomial_metrics(y, p, w)
    assert m["AUC"] == pytest.approx(brute_auc(y, p, w), rel=1e-12)
    t, _ = brute_max_f1(y, p, w)
    assert m["max_f1_threshold"] == t
    pred = p >= t
    err = (w[pred & (y == 0)].sum() + w[~pred & (y == 1)].sum()) / w.sum()
    assert m["classification_error"] == pytest.approx(err)
    e0 = w[pred & (y == 0)].sum() / w[y == 0].sum()
    e1 = w[~pred & (y == 1)].sum() / w[y == 1].sum()
    assert m["mean_per_class_error"] == pytest.approx((e0 + e1) / 2)
    assert m["MSE"] == pytest.approx(np.sum(w * (y - p) ** 2) / w.sum())


def test_binomial_one_class_missing_gives_nan_auc():
    m = binomial_metrics([0, 0, 0], [0.2, 0.6, 0.9])
    assert math.isnan(m["AUC"]) and math.isnan(m["pr_auc"]) and math.isnan(m["r2"])
    assert m["max_f1_threshold"] == 0.5  # no F1 defined: H2O's default threshold
    assert m["classification_error"] == pytest.approx(2 / 3)
    m = binomial_metrics([1, 1], [0.2, 0.6])
    assert math.isnan(m["AUC"])
    assert m["max_f1_threshold"] == 0.2 and m["classification_error"] == 0.0


@pytest.mark.parametrize("w", [None, np.zeros(3)])
def test_empty_or_zero_weight_gives_nans(w):
    n = 0 if w is None else 3
    m = binomial_metrics(np.zeros(n, int), np.full(n, 0.5), w)
    assert m["nobs"] == 0 and math.isnan(m["MSE"]) and math.isnan(m["AUC"])
    m = multinomial_metrics(np.zeros(n, int), np.full((n, 3), 1 / 3), w)
    assert m["nobs"] == 0 and math.isnan(m["logloss"]) and len(m["hit_ratios"]) == 3
    m = regression_metrics(np.zeros(n), np.zeros(n), w)
    assert m["nobs"] == 0 and math.isnan(m["mean_residual_deviance"])


def test_missing_response_and_zero_weight_rows_are_skipped():
    full = binomial_metrics([1, 0, -1, 1], [0.7, 0.2, 0.9, 0.4], [1, 1, 1, 0])
    assert full == binomial_metrics([1, 0], [0.7, 0.2])
    reg = regression_metrics([1.0, np.nan, 3.0], [1.5, 9.0, 2.0])
    assert reg == regression_metrics([1.0, 3.0], [1.5, 2.0])


# ---------------------------------------------------------------------------- multinomial

def test_multinomial_by_hand():
    probs = np.array([[0.5, 0.3, 0.2],
                      [0.2, 0.5, 0.3],
                      [0.1, 0.2, 0.7],
                      [0.3, 0.4, 0.3]])
    y = np.array([0, 2, 0, 1])  # ranks of the actual class: 0, 1, 2, 0
    m = multinomial_metrics(y, probs)
    assert m["hit_ratios"] == pytest.approx([0.5, 0.75, 1.0])
    assert m["confusion_matrix"] == [[1, 0, 1], [0, 1, 0], [0, 1, 0]]
    assert m["classification_error"] == pytest.approx(0.5)
    assert m["mean_per_class_error"] == pytest.approx((0.5 + 0 + 1) / 3)
    mse = (0.25 + 0.49 + 0.81 + 0.36) / 4
    assert m["MSE"] == pytest.approx(mse)
    assert m["logloss"] == pytest.approx(-np.mean(np.log([0.5, 0.3, 0.1, 0.4])))
    var_y = np.mean(np.array(y) ** 2) - np.mean(y) ** 2
    assert m["r2"] == pytest.approx(1 - mse / var_y)


def test_multinomial_ties_go_to_lower_class_index():
    m = multinomial_metrics([1, 0], [[0.4, 0.4, 0.2], [0.4, 0.4, 0.2]])
    assert m["hit_ratios"] == pytest.approx([0.5, 1.0, 1.0])
    assert m["classification_error"] == pytest.approx(0.5)


def test_multinomial_absent_class_counts_zero_error_as_h2o():
    m = multinomial_metrics([0, 0, 1], [[0.2, 0.7, 0.1], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    assert m["mean_per_class_error"] == pytest.approx((0.5 + 0.0 + 0.0) / 3)


def test_hit_ratios_cap_at_ten():
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(12), 40)
    m = multinomial_metrics(rng.integers(0, 12, 40), probs)
    assert len(m["hit_ratios"]) == 10
    assert np.all(np.diff(m["hit_ratios"]) >= 0)
    assert m["hit_ratios"][0] == pytest.approx(1 - m["classification_error"])


def test_binomial_logloss_takes_the_actual_class_column():
    """H2O's MetricBuilderBinomial.perRow reads the actual class's probability column: a
    confident model's float32 p1 rounds to 1, yet its p0 (1e-12 here) still counts."""
    p1 = np.float32(1.0 - 1e-12)            # == 1.0 in float32
    probs = np.array([[1e-12, p1], [0.25, 0.75]], dtype=np.float32)
    m = classification_metrics([0, 1], probs)
    want = -(math.log(np.float64(np.float32(1e-12))) + math.log(0.75)) / 2
    assert m["logloss"] == pytest.approx(want, rel=1e-6)        # 1 - p1 would give 34.5 / 2
    assert m["MSE"] == pytest.approx(((1 - np.float64(np.float32(1e-12))) ** 2 + 0.0625) / 2)


def test_classification_metrics_dispatch():
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = [1, 0, 0]
    m = classification_metrics(y, probs)
    assert m == binomial_metrics(y, probs[:, 1], p0=probs[:, 0]) and "hit_ratios" not in m
    probs3 = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    assert classification_metrics([1, 0], probs3) == multinomial_metrics([1, 0], probs3)


# ----------------------------------------------------------------------------- regression

Y = np.array([0.0, 1.0, 2.0, 5.0, 3.0])
F = np.array([0.5, 1.5, 1.0, 2.0, 3.2])
R = Y - F


@pytest.mark.parametrize("dist,dev", [
    ("gaussian", R ** 2),
    ("laplace", np.abs(R)),
    ("quantile", np.where(Y > F, 0.3 * R, 0.7 * -R)),
    # y = 0: y*log(y/f) is 0 (H2O: 0 * its log(0) = -19)
    ("poisson", 2 * (np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1) / F), 0) - Y + F)),
    ("tweedie", 2 * (Y ** 0.7 / (-0.3 * 0.7) - Y * F ** -0.3 / -0.3 + F ** 0.7 / 0.7)),
])
def test_regression_deviances_match_h2o_formulas(dist, dev):
    m = regression_metrics(Y, F, distribution=dist, quantile_alpha=0.3, tweedie_power=1.3)
    assert m["mean_residual_deviance"] == pytest.approx(dev.mean(), rel=1e-12)


def test_gamma_deviance_matches_h2o_formula():
    y, f = Y[1:], F[1:]  # gamma needs y > 0
    m = regression_metrics(y, f, distribution="gamma")
    assert m["mean_residual_deviance"] == pytest.approx(
        np.mean(2 * (np.log(f / y) + y / f - 1)), rel=1e-12)


@pytest.mark.parametrize("dist,y,f,dev", [
    ("poisson", 0.0, 2.0, 4.0),                 # 2 * (0 - 0 + 2)
    ("poisson", 2.0, 2.0, 0.0),
    ("poisson", 1.0, math.e, 2 * math.e - 4),   # 2 * (log(1/e) - 1 + e)
    ("gamma", 2.0, 2.0, 0.0),
    ("gamma", 1.0, math.e, 2 / math.e),         # 2 * (log(e) + 1/e - 1)
    ("gamma", math.e, 1.0, 2 * math.e - 4),     # 2 * (log(1/e) + e - 1)
    ("tweedie", 0.0, 4.0, 8.0),                 # p = 1.5: 2 * (0 - 0 + 4^0.5 / 0.5)
    ("tweedie", 1.0, 1.0, 0.0),                 # 2 * (-4 + 2 + 2)
    ("laplace", 1.0, 3.5, 2.5),
    ("quantile", 1.0, 3.0, 2.0 * 0.5),          # alpha 0.5: (1 - alpha) * (f - y)
])
def test_deviance_on_hand_picked_values(dist, y, f, dev):
    m = regression_metrics([y], [f], distribution=dist, tweedie_power=1.5)
    assert m["mean_residual_deviance"] == pytest.approx(dev, rel=1e-12, abs=1e-15)


def test_poisson_and_gamma_deviances_are_non_negative_and_zero_at_a_perfect_fit():
    rng = np.random.default_rng(5)
    y = np.concatenate([[0.0], rng.gamma(2.0, 1.0, 50)])
    f = rng.gamma(2.0, 1.0, 51)
    for dist in ("poisson", "gamma", "tweedie"):
        ys = y[1:] if dist == "gamma" else y
        fs = f[1:] if dist == "gamma" else f
        assert regression_metrics(ys, fs, distribution=dist)["mean_residual_deviance"] > 0
        assert regression_metrics(ys[1:], ys[1:], distribution=dist)[
            "mean_residual_deviance"] == pytest.approx(0.0, abs=1e-12)


def test_huber_delta_is_weighted_quantile_of_abs_residual():
    w = np.array([1.0, 2.0, 1.0, 3.0, 1.0])
    abs_r = np.abs(R)
    delta = np.quantile(np.repeat(abs_r, w.astype(int)), 0.6)  # type 7 on replicated rows
    dev = np.where(abs_r <= delta, R ** 2, (2 * abs_r - delta) * delta)  # continuous at delta
    m = regression_metrics(Y, F, w, distribution="huber", huber_alpha=0.6)
    assert m["mean_residual_deviance"] == pytest.approx(np.sum(w * dev) / w.sum())


def test_weighted_quantile_matches_numpy_on_unit_weights():
    x = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6])
    for a in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert weighted_quantile(x, np.ones(6), a) == pytest.approx(np.quantile(x, a))


def test_regression_basic_metrics():
    m = regression_metrics(Y, F)
    assert m["MSE"] == pytest.approx(np.mean(R ** 2))
    assert m["mae"] == pytest.approx(np.mean(np.abs(R)))
    assert m["rmsle"] == pytest.approx(np.sqrt(np.mean((np.log1p(F) - np.log1p(Y)) ** 2)))
    assert m["r2"] == pytest.approx(1 - np.mean(R ** 2) / np.var(Y))
    assert math.isnan(regression_metrics([-2.0, 1.0], [0.0, 1.0])["rmsle"])
    assert math.isnan(regression_metrics([1.0, 1.0], [0.0, 1.0])["r2"])  # var(y) == 0


# -------------------------------------------------------------- weights == row replication

@pytest.mark.parametrize("seed", [0, 1])
def test_integer_weights_equal_row_replication(seed):
    rng = np.random.default_rng(seed)
    n = 30
    w = rng.integers(1, 4, n).astype(float)
    rep = np.repeat(np.arange(n), w.astype(int))

    y2 = rng.integers(0, 2, n)
    p1 = np.round(rng.random(n), 1)
    close_dicts(binomial_metrics(y2, p1, w), binomial_metrics(y2[rep], p1[rep]))

    y5 = rng.integers(0, 5, n)
    probs = rng.dirichlet(np.ones(5), n)
    close_dicts(multinomial_metrics(y5, probs, w), multinomial_metrics(y5[rep], probs[rep]))

    y = rng.gamma(2.0, 1.0, n)
    f = rng.gamma(2.0, 1.0, n)
    for dist in ("gaussian", "laplace", "quantile", "huber", "poisson", "gamma", "tweedie"):
        close_dicts(regression_metrics(y, f, w, distribution=dist),
                    regression_metrics(y[rep], f[rep], distribution=dist))


# ---------------------------------------------------------------------- names and report

def test_metric_value_names():
    m = {"mean_residual_deviance": 1.0, "logloss": 2.0, "MSE": 3.0, "RMSE": 4.0, "mae": 5.0,
         "rmsle": 6.0, "AUC": 0.7, "pr_auc": 0.6, "classification_error": 0.1,
         "mean_per_class_error": 0.2}
    assert metric_value(m, "deviance") == 1.0
    assert metric_value(m, "LOGLOSS") == 2.0
    assert metric_value(m, "mse") == 3.0
    assert metric_value(m, "rmse") == 4.0
    assert metric_value(m, "MAE") == 5.0
    assert metric_value(m, "RMSLE") == 6.0
    assert metric_value(m, "auc") == 0.7
    assert metric_value(m, "AUCPR") == 0.6
    assert metric_value(m, "misclassification") == 0.1
    assert metric_value(m, "MEAN_PER_CLASS_ERROR") == 0.2
    assert math.isnan(metric_value({"MSE": 1.0}, "AUC"))
    with pytest.raises(ValueError):
        metric_value(m, "AUTO")
    with pytest.raises(ValueError):
        metric_value(m, "r2")


def test_metrics_are_json_serializable():
    m = binomial_metrics([1, 0, 1], [0.8, 0.3, 0.4], [1.0, 2.0, 1.0])
    out = json.loads(json.dumps(m))
    assert out["confusion_matrix"] == m["confusion_matrix"]
    for key, value in multinomial_metrics([0, 1], [[0.6, 0.4], [0.3, 0.7]]).items():
        assert isinstance(value, (float, int, list)), key


def test_confusion_matrix_table_layout():
    text = confusion_matrix_table([[3, 0], [1, 2]], ["no", "yes"])
    lines = text.splitlines()
    assert "actual" in lines[0] and "predicted" in lines[0]
    assert lines[1].split() == ["no", "yes", "Error", "Rate"]
    assert lines[2].split() == ["no", "3", "0", "0.0000", "=", "0", "/", "3"]
    assert lines[3].split() == ["yes", "1", "2", "0.3333", "=", "1", "/", "3"]
    assert lines[4].split() == ["Totals", "4", "2", "0.1667", "=", "1", "/", "6"]
    weighted = confusion_matrix_table([[1.5, 0.5], [0.0, 2.0]], ["a", "b"])
    assert "0.5000 / 2.0000" in weighted and "0.50 / 4.00" in weighted


def test_float_coded_classes_with_nan_response():
    m = binomial_metrics(np.array([1.0, np.nan, 0.0]), [0.7, 0.5, 0.2])
    assert m == binomial_metrics([1, 0], [0.7, 0.2])
    probs = np.array([[0.6, 0.4], [0.5, 0.5], [0.1, 0.9]])
    m = multinomial_metrics(np.array([0.0, np.nan, 1.0]), probs)
    assert m == multinomial_metrics([0, 1], probs[[0, 2]])
