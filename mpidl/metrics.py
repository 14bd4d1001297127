"""Model metrics with H2O's names and definitions (spec section 7.3), pure numpy.

Every function takes observation weights ``w`` (float[n] or None = all ones) and returns a plain
dict of Python floats / ints / lists, ready for JSON. Rows with weight 0 (or NaN) and rows whose
response is missing (class code < 0, or NaN for regression) do not count, as in H2O's metric
builders. With no counted rows every metric is NaN and ``nobs`` is 0.

Where H2O and textbook definitions differ, H2O wins (these are the numbers H2O prints):

- ``mean_per_class_error`` averages the per-class error over ALL K classes, and a class with no
  rows contributes 0 (``ConfusionMatrix.class_error``: "Either 0 or NaN, but 0 is nicer").
- Binomial ``AUC``, ``pr_auc``, ``max_f1_threshold`` and its confusion matrix come from H2O's
  400-bin histogram of the probabilities (``AUC2``; ``metrics_stats.py``): exact up to 400
  distinct probabilities, H2O's approximation beyond. AUC / pr_auc are NaN, not H2O's
  1.0 / 0.0, when one class has no weight.
- ``pr_auc``: trapezoids over (recall, precision) at the bins' thresholds, starting at the
  highest threshold (no artificial (0, 1) point).
- A multinomial confusion matrix is kept only up to ``max_confusion_matrix_size`` classes.
- The deviances are H2O-3's current ``Distribution.deviance`` (``hex/DistributionFactory.java``):
  poisson and gamma are the full unit deviances (non-negative, 0 for a perfect fit), huber's
  outer branch is ``(2|r| - delta) delta`` (see ``regression_metrics``). Classification models
  report no deviance, as H2O's binomial and multinomial metrics hold none.

The metric functions take an optional communicator: every rank passes its own rows and all
ranks get the metrics of the union (``metrics_stats.py``: sums reduced over the ranks).
- Ties in multinomial ``argmax`` and top-K ranks go to the lower class index (H2O breaks them
  with class priors and a row hash).
"""

import math

import numpy as np

__all__ = [
    "binomial_metrics", "multinomial_metrics", "classification_metrics", "regression_metrics",
    "confusion_matrix_table", "metric_value", "canonical_metric_name", "weighted_quantile",
]

LOGLOSS_EPS = 1e-15
NAN = float("nan")

# H2O's ScoreKeeper.StoppingMetric names (canonical spelling) -> key in a metrics dict.
STOPPING_METRIC_KEYS = {
    "deviance": "mean_residual_deviance",
    "logloss": "logloss",
    "MSE": "MSE",
    "RMSE": "RMSE",
    "MAE": "mae",
    "RMSLE": "rmsle",
    "AUC": "AUC",
    "AUCPR": "pr_auc",
    "lift_top_group": "lift_top_group",
    "misclassification": "classification_error",
    "mean_per_class_error": "mean_per_class_error",
}
_CANONICAL = {name.lower(): name for name in ("AUTO", *STOPPING_METRIC_KEYS)}


def canonical_metric_name(name):
    """H2O's spelling of a stopping-metric name given in any case; ValueError if unknown."""
    canon = _CANONICAL.get(str(name).strip().lower())
    if canon is None:
        raise ValueError(f"stopping_metric: unknown value {name!r}; "
                         f"use one of {', '.join(_CANONICAL.values())}")
    return canon


def metric_value(metrics, name):
    """The value of stopping metric ``name`` (case-insensitive H2O name) in a metrics dict.

    deviance -> mean_residual_deviance, AUCPR -> pr_auc, misclassification ->
    classification_error, MAE -> mae, RMSLE -> rmsle; the others map to themselves. AUTO must be
    resolved first (``stopping.resolve_stopping_metric``). A metric this dict does not hold
    (AUC of a multinomial model, lift_top_group) reads as NaN, which never triggers a stop.
    """
    canon = canonical_metric_name(name)
    if canon == "AUTO":
        raise ValueError("stopping_metric AUTO must be resolved before reading a metric")
    value = metrics.get(STOPPING_METRIC_KEYS[canon], NAN)
    return NAN if value is None else float(value)


# ----------------------------------------------------------------------------------- helpers

def _weights(w, n):
    if w is None:
        return np.ones(n, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64).ravel()
    if w.shape[0] != n:
        raise ValueError(f"weights have {w.shape[0]} rows, expected {n}")
    return np.where(np.isnan(w), 0.0, w)


def _class_codes(y):
    """Class codes as int64, with NaN (a float-coded missing response) mapped to -1."""
    y = np.asarray(y).ravel()
    if y.dtype.kind == "f":
        y = np.where(np.isnan(y), -1.0, y)
    return y.astype(np.int64)


def _r2(mse, var):
    # H2O computes 1 - MSE/var even for var == 0 (giving -Infinity); NaN is kept JSON-friendlier.
    return 1.0 - mse / var if var > 0 else NAN


def _serial(comm):
    from .comm import SerialComm
    return SerialComm() if comm is None else comm


# ------------------------------------------------------------------------------- binomial

def binomial_metrics(y, p1, w=None, comm=None, p0=None):
    """Binomial metrics as H2O's ``ModelMetricsBinomial``.

    Parameters: ``y`` int[n] in {0, 1} (negative or NaN = missing), ``p1`` float[n] = P(class 1),
    ``w`` float[n] or None, ``comm``: a communicator (None: this process's rows alone), ``p0``
    float[n] = P(class 0) (default ``1 - p1``; the model's own column keeps a tiny p0 that
    ``1 - p1`` in float32 rounds to 0).

    Returns keys ``MSE`` (weighted mean of (1 - p_actual)^2), ``RMSE``, ``logloss``
    (-mean log max(1e-15, p_actual); p_actual is the actual class's column, as H2O), ``AUC``, ``pr_auc``, ``max_f1_threshold`` (predict 1 iff
    p1 >= it; among equal F1 the highest threshold, as H2O), ``classification_error``,
    ``mean_per_class_error``, ``confusion_matrix`` ([[TN, FP], [FN, TP]], weighted, at that
    threshold), ``r2`` (1 - MSE / weighted population variance of y), ``nobs``.
    When no threshold has a defined F1 (no positive rows) the threshold is 0.5, H2O's default.
    """
    from .metrics_stats import reduced_binomial
    y = _class_codes(y)
    p1 = np.asarray(p1, dtype=np.float64).ravel()
    if p1.shape[0] != y.shape[0]:
        raise ValueError(f"p1 has {p1.shape[0]} rows, y has {y.shape[0]}")
    p0 = 1.0 - p1 if p0 is None else np.asarray(p0, dtype=np.float64).ravel()
    w = _weights(w, y.shape[0])
    if np.any(y > 1):
        raise ValueError("binomial response must be coded 0/1")
    keep = (w > 0) & (y >= 0)
    return reduced_binomial(y[keep], p0[keep], p1[keep], w[keep], _serial(comm))


# ---------------------------------------------------------------------------- multinomial

def multinomial_metrics(y, probs, w=None, max_confusion_matrix_size=20, comm=None):
    """Multinomial metrics as H2O's ``ModelMetricsMultinomial`` (no AUC: auc_type AUTO).

    Parameters: ``y`` int[n] in 0..K-1 (negative or NaN = missing), ``probs`` float[n, K], ``w``,
    ``max_confusion_matrix_size``: the most classes for which the confusion matrix is built,
    ``comm`` as for ``binomial_metrics``.

    Returns keys ``MSE`` (weighted mean of (1 - p_actual)^2), ``RMSE``, ``logloss``,
    ``classification_error`` (argmax labels), ``mean_per_class_error``, ``confusion_matrix``
    (K x K, rows actual, columns predicted, weighted; for more classes than
    ``max_confusion_matrix_size`` the key ``confusion_matrix_omitted`` instead, saying why),
    ``hit_ratios`` (length min(10, K): entry k-1 = weighted fraction whose actual class is among
    the k most probable), ``r2`` (1 - MSE / weighted population variance of the class index y,
    as H2O), ``nobs``.  Memory is O(n K + K) below the limit's K^2.
    """
    from .metrics_stats import reduced_multinomial
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"probs must be 2-D [n, K], got shape {probs.shape}")
    n, k = probs.shape
    y = _class_codes(y)
    if y.shape[0] != n:
        raise ValueError(f"probs has {n} rows, y has {y.shape[0]}")
    if np.any(y >= k):
        raise ValueError(f"class index {int(y.max())} out of range for {k} classes")
    w = _weights(w, n)
    keep = (w > 0) & (y >= 0)
    return reduced_multinomial(y[keep], probs[keep], w[keep], _serial(comm),
                               int(max_confusion_matrix_size))


def classification_metrics(y, probs, w=None, max_confusion_matrix_size=20, comm=None):
    """Binomial metrics (from ``probs[:, 1]``) when K == 2, else multinomial; see those."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2 and probs.shape[1] == 2:
        return binomial_metrics(y, probs[:, 1], w, comm=comm, p0=probs[:, 0])
    return multinomial_metrics(y, probs, w, max_confusion_matrix_size, comm=comm)


# ----------------------------------------------------------------------------- regression

def weighted_quantile(x, w, alpha):
    """H2O's interpolating quantile with weights as replication counts.

    The position ``alpha * (W - 1)`` (W = total weight) is located in the sorted values, each
    value occupying as many positions as its weight, and the two neighbouring positions are
    interpolated linearly: with integer weights this is R's type 7 on the replicated data.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs, cum = x[order], np.cumsum(w[order])
    total = cum[-1]
    pos = max(alpha * (total - 1.0), 0.0)
    lo_row = math.floor(pos)
    last = xs.shape[0] - 1
    lo = xs[min(int(np.searchsorted(cum, lo_row, side="right")), last)]
    if pos == lo_row:
        return float(lo)
    hi = xs[min(int(np.searchsorted(cum, lo_row + 1, side="right")), last)]
    return float(lo + (hi - lo) * (pos - lo_row))


def _h2o_log(x):
    """H2O's sanitized log (``LogExpUtil.log``): log(max(0, x)), 0 -> -19, clamped below at -19.

    NaN stays NaN (Java's ``Math.max`` propagates it); +inf stays +inf.
    """
    x = np.maximum(x, 0.0)
    with np.errstate(divide="ignore"):
        return np.maximum(-19.0, np.log(x))


def _h2o_exp(x):
    """H2O's sanitized exp (``LogExpUtil.exp``): exp(x) capped at 1e19."""
    return np.minimum(1e19, np.exp(x))


def _deviance(y, f, w, distribution, huber_alpha, tweedie_power, quantile_alpha,
              huber_delta=None):
    """Unweighted per-row deviance, H2O's ``Distribution.deviance(1, y, f)`` (f in response
    units); float64[n] from y, f float64[n] and weights w float64[n] (huber's delta only);
    huber's delta is ``huber_delta`` when given (the quantile over every rank's rows)."""
    r = y - f
    if distribution in ("gaussian", "auto"):
        return r * r
    if distribution == "laplace":
        return np.abs(r)
    if distribution == "quantile":
        return np.where(y > f, quantile_alpha * r, (1.0 - quantile_alpha) * (-r))
    if distribution == "huber":
        delta = (weighted_quantile(np.abs(r), w, huber_alpha) if huber_delta is None
                 else huber_delta)
        return np.where(np.abs(r) <= delta, r * r, (2.0 * np.abs(r) - delta) * delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        if distribution == "poisson":
            return 2.0 * (y * _h2o_log(y / f) - y + f)
        if distribution == "gamma":
            y_over_f = np.where((y == 0) & (f == 0), 1.0, y / f)
            return 2.0 * (_h2o_log(f / y) + y_over_f - 1.0)
    if distribution == "tweedie":
        p, lf = tweedie_power, _h2o_log(f)
        return 2.0 * (np.power(y, 2.0 - p) / ((1.0 - p) * (2.0 - p))
                      - y * _h2o_exp(lf * (1.0 - p)) / (1.0 - p)
                      + _h2o_exp(lf * (2.0 - p)) / (2.0 - p))
    raise ValueError(f"distribution: {distribution!r} has no regression deviance; use gaussian, "
                     "laplace, quantile, huber, poisson, gamma or tweedie")


def regression_metrics(y, pred, w=None, distribution="gaussian", huber_alpha=0.9,
                       tweedie_power=1.5, quantile_alpha=0.5, comm=None):
    """Regression metrics as H2O's ``ModelMetricsRegression``, in original response units.

    Parameters: ``y`` float[n] (NaN = missing), ``pred`` float[n] (after the link inverse),
    ``w``, the distribution and its parameters, ``comm`` as for ``binomial_metrics``.

    Returns keys ``MSE``, ``RMSE``, ``mae``, ``rmsle`` (sqrt of the weighted mean of
    (log1p(pred) - log1p(y))^2; NaN if any y or pred < -1), ``r2`` (1 - MSE / weighted
    population variance of y), ``mean_residual_deviance`` (sum w*dev / sum w), ``nobs``.

    Per-row deviances (H2O-3's ``Distribution.deviance``, mu = pred, r = y - mu):
    gaussian r^2; laplace |r|; quantile alpha*r if y > mu else (1-alpha)*(-r);
    huber r^2 if |r| <= delta else (2*|r| - delta)*delta, delta = the huber_alpha weighted
    quantile of |r| over the scored rows (``ModelMetricsRegression.computeHuberDelta``);
    poisson 2*(y*log(y/mu) - y + mu), whose y*log(y/mu) is 0 at y = 0 (0 * log(0) with H2O's
    log(0) = -19); gamma 2*(log(mu/y) + y/mu - 1) (+inf at y = 0 < mu, 0 at y = mu = 0);
    tweedie (1 < p < 2) 2*(y^(2-p)/((1-p)(2-p)) - y*mu^(1-p)/(1-p) + mu^(2-p)/(2-p)).
    log is H2O's sanitized log (log(max(0, x)), clamped below at -19) and exp is capped at
    1e19, so a deviance can be +inf or NaN where H2O's is (mu = 0).
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    pred = np.asarray(pred, dtype=np.float64).ravel()
    if pred.shape[0] != y.shape[0]:
        raise ValueError(f"pred has {pred.shape[0]} rows, y has {y.shape[0]}")
    w = _weights(w, y.shape[0])
    keep = (w > 0) & ~np.isnan(y)
    from .metrics_stats import reduced_regression
    return reduced_regression(y[keep], pred[keep], w[keep], _serial(comm),
                              str(distribution).lower(), huber_alpha, tweedie_power,
                              quantile_alpha)


# ---------------------------------------------------------------------------------- report

def confusion_matrix_table(cm, domain):
    """H2O's confusion-matrix table as fixed-width text (rows actual, columns predicted).

    ``cm``: K x K counts or weights; ``domain``: K class labels. Adds an ``Error`` column (the
    row's error rate), a ``Rate`` column ("errors / total") and a ``Totals`` row (column sums,
    overall error). Integer-valued matrices print as integers with thousands separators, as H2O.
    """
    cm = np.asarray(cm, dtype=np.float64)
    k = cm.shape[0]
    if cm.shape != (k, k) or len(domain) != k:
        raise ValueError(f"confusion matrix shape {cm.shape} does not match {len(domain)} labels")
    is_int = bool(np.all(cm == np.floor(cm)))
    acts, preds = cm.sum(axis=1), cm.sum(axis=0)
    errs = acts - np.diag(cm)
    total, terr = float(acts.sum()), float(errs.sum())

    def num(v):
        return f"{int(v):,d}" if is_int else f"{v:.2f}"

    def rate(e, t, fmt):
        return f"{int(e):,d} / {int(t):,d}" if is_int else f"{e:{fmt}} / {t:{fmt}}"

    def ratio(e, t):
        return f"{e / t:.4f}" if t > 0 else "NaN"

    header = [""] + [str(d) for d in domain] + ["Error", "Rate"]
    body = [[str(domain[a])] + [num(v) for v in cm[a]] + [ratio(errs[a], acts[a]),
                                                           rate(errs[a], acts[a], ".4f")]
            for a in range(k)]
    body.append(["Totals"] + [num(v) for v in preds] + [ratio(terr, total),
                                                        rate(terr, total, ".2f")])
    rate_width = max(len(row[-1]) for row in body)
    for row in body:
        row[-1] = "= " + row[-1].rjust(rate_width)
    table = [header] + body
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    lines = ["Confusion Matrix (vertical: actual; across: predicted)"]
    for row in table:
        cells = [row[0].ljust(widths[0])] + [row[c].rjust(widths[c]) for c in range(1, len(row))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
