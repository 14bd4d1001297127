"""H2O's model metrics from sufficient statistics reduced over the ranks (``metrics.py``'s
definitions), as H2O's metric builders (``ModelMetricsBinomial/Multinomial/Regression``) do.

Each rank sums its own rows into one float64 vector (counts, weighted sums of squared error,
absolute error, logloss, deviance, y and y^2, class totals and hits, the confusion matrix), one
``allreduce_sum`` adds the vectors, and the metrics are computed from the sums on every rank.
The binomial AUC comes from H2O's 400-bin histogram (``AUC2.NBINS``): each rank builds its
histogram row by row with H2O's perRow rule (``kernels/auc_bins.py``), the ranks' histograms
are gathered as one buffer and merged in rank order with H2O's reduce rule.  Up to 400
distinct probabilities the AUC is exact; beyond, it is H2O's approximation, which (as in H2O,
whose result depends on its chunks) depends on the row order and the rank count.  Every function is a collective over ``comm``.

The many-class rule (H2O's ``max_confusion_matrix_size``): a multinomial confusion matrix is
built only for K <= ``max_cm`` classes; above, it is omitted (``confusion_matrix_omitted``
says why) and everything else is still computed in O(K) memory (mean per-class error from the
per-class totals and hits on the diagonal, hit ratios from the top-10 ranks).
"""

from __future__ import annotations

import math

import numpy as np

from .dist_quantile import global_weighted_quantile
from .kernels.auc_bins import merge_bins, stream_bins
from .kernels.metric_sums import binomial_sums
from .metrics import LOGLOSS_EPS, NAN, _deviance, _r2

NBINS = 400   # H2O's AUC2.NBINS


def _moments(s) -> tuple[float, float]:
    """(wsum, weighted population variance of y) from sums [.., wsum, w*y, w*y^2] at 1..3."""
    wsum = s[1]
    mean = s[2] / wsum
    return wsum, max(s[3] / wsum - mean * mean, 0.0)


def _per_class_error(class_w, class_hit) -> float:
    """H2O's mean_per_class_error: classes without rows count as error 0."""
    errs = np.where(class_w > 0, (class_w - class_hit) / np.where(class_w > 0, class_w, 1.0), 0.0)
    return float(errs.mean())


# ----------------------------------------------------------------------------- binomial

def local_histogram(y, p1, w) -> tuple[np.ndarray, ...]:
    """This rank's AUC histogram (ths, sqe, tps, fps; <= NBINS bins, ascending centres) of
    finite probabilities ``p1`` float64[n] with classes ``y`` int64[n] in {0, 1} and weights
    ``w`` float64[n] (contiguous),
    built row by row in the rows' order as H2O's AUCBuilder.perRow does."""
    return stream_bins(p1, y, w, NBINS)


def merged_histogram(hist, comm) -> tuple[np.ndarray, ...]:
    """Every rank's histogram gathered as one float64 buffer and merged in rank order with
    H2O's rule (its ``AUCBuilder.reduce``); the same bins on every rank."""
    packed = np.full((4, NBINS + 1), np.nan)
    n = hist[0].size
    packed[:, 0] = n
    for i, part in enumerate(hist):
        packed[i, 1:n + 1] = part
    every = comm.allgather_array(packed)
    acc = None
    for block in every:
        k = int(block[0, 0])
        parts = [block[i, 1:k + 1] for i in range(4)]
        if acc is not None:
            parts = [np.concatenate([a, b]) for a, b in zip(acc, parts)]
            order = np.argsort(parts[0], kind="stable")
            parts = merge_bins(*(p[order] for p in parts), NBINS)
        acc = parts
    return tuple(acc)


def _curve_metrics(ths, tps, fps, defined: bool) -> dict:
    """AUC, pr_auc, max-F1 threshold and its confusion matrix from ascending bins (H2O's AUC2:
    thresholds from high to low, cumulative counts; F1's first maximum = highest threshold),
    and the ROC curve of those bins, ``roc``: [threshold, fpr, tpr] rows, thresholds falling
    (at most the histogram's 400 bins; the point (0, 0) is implied).
    ``defined`` False (some probability was not finite): no curve, threshold 0.5."""
    pos, neg = float(tps.sum()), float(fps.sum())
    above = ths >= 0.5          # H2O's default threshold, used when no F1 is defined
    tp, fp = float(tps[above].sum()), float(fps[above].sum())
    out = {"AUC": NAN, "pr_auc": NAN, "max_f1_threshold": 0.5}
    ths, tps, fps = ths[::-1], np.cumsum(tps[::-1]), np.cumsum(fps[::-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = tps / (tps + fps)
        recall = tps / pos
        f1 = 2.0 * precision * recall / (precision + recall)
    if defined and pos > 0 and neg > 0:
        tp0 = np.concatenate(([0.0], tps[:-1]))
        fp0 = np.concatenate(([0.0], fps[:-1]))
        out["AUC"] = float(np.sum((fps - fp0) * (tps + tp0) / 2.0) / pos / neg)
        out["pr_auc"] = float(np.sum((recall[1:] - recall[:-1])
                                     * (precision[1:] + precision[:-1]) * 0.5))
        out["roc"] = np.column_stack([ths, fps / neg, tps / pos]).tolist()
    if defined and not np.all(np.isnan(f1)):
        i = int(np.nanargmax(f1))
        out["max_f1_threshold"], tp, fp = float(ths[i]), tps[i], fps[i]
    out["cm"] = np.array([[neg - fp, fp], [pos - tp, tp]])
    return out


def reduced_binomial(y, p0, p1, w, comm) -> dict:
    """``metrics.binomial_metrics`` over every rank's rows; inputs already filtered to counted
    rows (w > 0, y in {0, 1}).  Rows with a non-finite p1 make AUC and pr_auc NaN and count
    as predicted 0."""
    p0 = np.ascontiguousarray(p0, dtype=np.float64)
    p1 = np.ascontiguousarray(p1, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.int64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    s = comm.allreduce_sum(binomial_sums(p0, p1, y, w, LOGLOSS_EPS))
    if s[5] > 0:   # the histogram takes finite probabilities only
        finite = np.isfinite(p1)
        y, p1, w = y[finite], p1[finite], w[finite]
    hist = merged_histogram(local_histogram(y, p1, w), comm)
    nobs = int(s[0])
    if nobs == 0 or s[1] <= 0:
        return {"MSE": NAN, "RMSE": NAN, "logloss": NAN, "AUC": NAN, "pr_auc": NAN,
                "max_f1_threshold": NAN, "classification_error": NAN,
                "mean_per_class_error": NAN, "confusion_matrix": [[0.0, 0.0], [0.0, 0.0]],
                "r2": NAN, "nobs": 0}
    wsum, var = _moments(s[[0, 1, 2, 2]])     # y in {0, 1}: sum w*y^2 = sum w*y
    ths, _, tps, fps = hist
    curve = _curve_metrics(ths, tps, fps, defined=s[5] == 0)
    cm = curve.pop("cm") + np.array([[s[7], 0.0], [s[6], 0.0]])
    mse = s[3] / wsum
    return {"MSE": mse, "RMSE": math.sqrt(mse), "logloss": s[4] / wsum, **curve,
            "classification_error": float((cm[0, 1] + cm[1, 0]) / wsum),
            "mean_per_class_error": _per_class_error(cm.sum(axis=1), np.diag(cm)),
            "confusion_matrix": cm.tolist(), "r2": _r2(mse, var), "nobs": nobs}


# --------------------------------------------------------------------------- multinomial

def _top_ranks(probs, y) -> np.ndarray:
    """Rank of the actual class per row (0 = most probable; equal ones of lower index first)."""
    k = probs.shape[1]
    p_act = probs[np.arange(y.size), y]
    return (probs > p_act[:, None]).sum(axis=1) + (
        (probs == p_act[:, None]) & (np.arange(k)[None, :] < y[:, None])).sum(axis=1)


def reduced_multinomial(y, probs, w, comm, max_cm: int) -> dict:
    """``metrics.multinomial_metrics`` over every rank's rows (already filtered to counted
    rows); the K x K confusion matrix only when K <= ``max_cm``."""
    n, k = probs.shape
    n_hits = min(10, k)
    with_cm = k <= max_cm
    p_act = probs[np.arange(n), y]
    pred = np.argmax(probs, axis=1) if n else np.zeros(0, dtype=np.int64)
    yf = y.astype(np.float64)
    head = [n, w.sum(), np.dot(w, yf), np.dot(w, yf * yf), np.dot(w, (1.0 - p_act) ** 2),
            -np.dot(w, np.log(np.maximum(LOGLOSS_EPS, p_act)))]
    hits = np.bincount(np.minimum(_top_ranks(probs, y), n_hits), weights=w,
                       minlength=n_hits + 1)[:n_hits]
    class_w = np.bincount(y, weights=w, minlength=k)
    class_hit = np.bincount(y, weights=w * (pred == y), minlength=k)
    cm = np.zeros(k * k if with_cm else 0)
    if with_cm:
        np.add.at(cm, y * k + pred, w)
    s = comm.allreduce_sum(np.concatenate([head, hits, class_w, class_hit, cm]))
    hits, class_w, class_hit, cm = np.split(s[6:], np.cumsum([n_hits, k, k]))
    out = {}
    if with_cm:
        out["confusion_matrix"] = cm.reshape(k, k).tolist()
    else:
        out["confusion_matrix_omitted"] = (f"{k} classes > max_confusion_matrix_size "
                                           f"({max_cm})")
    if int(s[0]) == 0 or s[1] <= 0:
        return {"MSE": NAN, "RMSE": NAN, "logloss": NAN, "classification_error": NAN,
                "mean_per_class_error": NAN, **out, "hit_ratios": [NAN] * n_hits, "r2": NAN,
                "nobs": 0}
    wsum, var = _moments(s)
    mse = s[4] / wsum
    return {"MSE": mse, "RMSE": math.sqrt(mse), "logloss": s[5] / wsum,
            "classification_error": float(1.0 - class_hit.sum() / wsum),
            "mean_per_class_error": _per_class_error(class_w, class_hit), **out,
            "hit_ratios": (np.cumsum(hits) / wsum).tolist(), "r2": _r2(mse, var),
            "nobs": int(s[0])}


# ---------------------------------------------------------------------------- regression

def reduced_regression(y, pred, w, comm, distribution, huber_alpha, tweedie_power,
                       quantile_alpha) -> dict:
    """``metrics.regression_metrics`` over every rank's rows (already filtered to counted
    rows).  Huber's delta is the global weighted quantile of |y - pred| (``dist_quantile``)."""
    r = y - pred
    delta = None
    if distribution == "huber":
        delta = global_weighted_quantile(np.abs(r), w, huber_alpha, comm)
    dev = _deviance(y, pred, w, distribution, huber_alpha, tweedie_power, quantile_alpha,
                    huber_delta=delta)
    below = bool(np.any(y < -1) or np.any(pred < -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        sle = np.dot(w, (np.log1p(pred) - np.log1p(y)) ** 2) if not below else 0.0
    s = comm.allreduce_sum(np.array([y.size, w.sum(), np.dot(w, y), np.dot(w, y * y),
                                     np.dot(w, r * r), np.dot(w, np.abs(r)), float(below), sle,
                                     np.dot(w, dev)], dtype=np.float64))
    if int(s[0]) == 0 or s[1] <= 0:
        return {"MSE": NAN, "RMSE": NAN, "mae": NAN, "rmsle": NAN, "r2": NAN,
                "mean_residual_deviance": NAN, "nobs": 0}
    wsum, var = _moments(s)
    mse = s[4] / wsum
    rmsle = NAN
    if s[6] == 0:
        with np.errstate(invalid="ignore"):
            rmsle = math.sqrt(s[7] / wsum) if math.isfinite(s[7]) and s[7] >= 0 else NAN
    return {"MSE": mse, "RMSE": math.sqrt(mse), "mae": s[5] / wsum, "rmsle": rmsle,
            "r2": _r2(mse, var), "mean_residual_deviance": s[8] / wsum, "nobs": int(s[0])}
