"""Scoring: metrics on the sampled frames (every rank scores its rows, the metrics come from
reduced sums), history rows and stopping decisions on rank 0 (spec 7, 8)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..autoencoder import reconstruction_metrics, reconstruction_mse
from ..dist_quantile import global_weighted_quantile
from ..metrics import classification_metrics, regression_metrics
from ..stopping import loss_for_best, stop_early


@dataclass
class ScoreSet:
    """Transformed rows to score on: nums float32[n, n_num], cats int32[n, n_cat], y, w float64[n];
    off: the offset column in output units (``DataInfo.link_offsets``) or None."""

    nums: np.ndarray
    cats: np.ndarray
    y: np.ndarray
    w: np.ndarray
    off: np.ndarray | None = None   # float64[n] offsets in output units, or None

    def take(self, idx: np.ndarray) -> "ScoreSet":
        """The rows ``idx`` of this set."""
        return ScoreSet(self.nums[idx], self.cats[idx], self.y[idx], self.w[idx],
                        None if self.off is None else self.off[idx])

    @property
    def n(self) -> int:
        return int(self.y.shape[0])


def score(model, data: ScoreSet, out: np.ndarray, comm) -> dict:
    """H2O's metrics of ``model`` on every rank's ``data`` (classification or regression,
    original units; an autoencoder's reconstruction MSE), from this rank's network outputs
    ``out = model.raw_output(data.nums, data.cats, threads, off=data.off)``.  A collective."""
    p = model.params
    if model.dinfo.autoencoder:
        rows = reconstruction_mse(model.dinfo, data.nums, data.cats, out)
        return reconstruction_metrics(rows, data.w, comm)
    if model.dinfo.classification:
        return classification_metrics(data.y.astype(np.int64), out, data.w,
                                      p.max_confusion_matrix_size, comm=comm)
    y = data.y / model.dinfo.resp_mul + model.dinfo.resp_sub
    dist = p.distribution if p.distribution != "AUTO" else "gaussian"
    return regression_metrics(y, model.to_response_scale(out[:, 0]), data.w, distribution=dist,
                              huber_alpha=p.huber_alpha, tweedie_power=p.tweedie_power,
                              quantile_alpha=p.quantile_alpha, comm=comm)


def score_model(model, train_set: ScoreSet, valid_set: ScoreSet | None, comm,
                threads: int) -> tuple[dict, dict | None]:
    """Every rank scores its rows of the sampled frames (a collective): the model's training
    and validation metrics (also kept in the model), and with Huber loss its new delta, from
    the training sample only, as H2O."""
    sets = [s for s in (train_set, valid_set) if s is not None]
    outs = [model.raw_output(s.nums, s.cats, threads, off=s.off) for s in sets]   # once per set
    train_m = score(model, sets[0], outs[0], comm)
    valid_m = score(model, sets[1], outs[1], comm) if valid_set else None
    if model.params.loss == "Huber" and not model.dinfo.autoencoder:
        model.huber_delta = huber_delta(model, sets[0], outs[0], comm)
    model.training_metrics, model.validation_metrics = train_m, (valid_m or {})
    return train_m, valid_m


def huber_delta(model, data: ScoreSet, out: np.ndarray, comm) -> float:
    """The huber_alpha quantile of |y - f| over every rank's ``data``, in training
    (standardized) units: the training delta, the same on every rank (``out``: this rank's
    network outputs, as for ``score``).  A collective.

    H2O always trains with delta = 1 (a quirk: its per-layer Distribution objects never see
    the updated value); mpidl follows the intent and uses the quantile from the last scoring.
    """
    f = out[:, 0]
    d = global_weighted_quantile(np.abs(data.y - f), data.w, model.params.huber_alpha, comm)
    return d if d > 0 and math.isfinite(d) else 1.0


_HISTORY_KEYS = {
    "rmse": "RMSE", "logloss": "logloss", "r2": "r2", "auc": "AUC", "pr_auc": "pr_auc",
    "classification_error": "classification_error", "deviance": "mean_residual_deviance",
    "mae": "mae", "mean_per_class_error": "mean_per_class_error", "rmsle": "rmsle",
}


def history_row(model, train_m: dict, valid_m: dict | None, speed: float) -> dict:
    """One scoring-history row with H2O's column names (``duration`` in seconds; an
    autoencoder's reconstruction MSE as ``training_mse`` after the RMSE, as H2O's table)."""
    row = {
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%S"),
        "duration": round(model.train_seconds, 3),
        "training_speed": round(speed, 1),
        "epochs": model.epoch_counter,
        "iterations": model.iterations,
        "samples": model.processed,
    }
    for prefix, m in (("training", train_m), ("validation", valid_m)):
        if not m:
            continue
        for col, key in _HISTORY_KEYS.items():
            if key in m:
                row[f"{prefix}_{col}"] = m[key]
        if model.dinfo.autoencoder:
            row[f"{prefix}_mse"] = m["MSE"]
    return row


_METRIC_COLUMNS = {
    "logloss": "logloss", "RMSE": "rmse", "AUC": "auc", "AUCPR": "pr_auc",
    "misclassification": "classification_error", "deviance": "deviance", "MAE": "mae",
    "mean_per_class_error": "mean_per_class_error", "RMSLE": "rmsle",
}


def stopping_series(history: list[dict], metric: str, has_valid: bool) -> list[float]:
    """Values of the resolved stopping metric over the scoring events, for ScoreKeeper."""
    prefix = "validation" if has_valid else "training"
    if metric == "MSE":
        return [r[f"{prefix}_rmse"] ** 2 for r in history if f"{prefix}_rmse" in r]
    col = f"{prefix}_{_METRIC_COLUMNS[metric]}"
    return [r[col] for r in history if col in r]


def stop_reason(model, train_m: dict, metric: str, history_values: list[float]) -> str:
    """Why training stops after this scoring ('' to continue): spec section 8, rules 1-4."""
    p = model.params
    if model.epoch_counter >= p.epochs:
        return "epochs"
    if model.dinfo.classification:
        if p.classification_stop >= 0 and train_m.get("classification_error", 1) <= \
                p.classification_stop:
            return "classification_stop"
    elif p.regression_stop >= 0 and train_m.get("MSE", math.inf) <= p.regression_stop:
        return "regression_stop"
    if p.stopping_rounds > 0 and stop_early(history_values, p.stopping_rounds, metric,
                                            p.stopping_tolerance):
        return "early_stopping"
    return ""


def best_loss(train_m: dict, valid_m: dict | None, metric: str) -> float:
    """Loss used to keep the best model: validation metrics when present (spec 7.4)."""
    v = loss_for_best(valid_m if valid_m else train_m, metric)
    return v if not math.isnan(v) else math.inf
