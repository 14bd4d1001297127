"""The fold models' holdout predictions on every rank, and the cross-validation metrics.

Each fold model, once final, scores the rows it held out on every rank (``keep``, called by
the train-one-model step).  ``cross_validation_metrics`` are the metrics of all holdout
predictions together (H2O's "combined holdout predictions"), reduced over the ranks like any
validation metrics; ``summary`` gives the mean and standard deviation over the folds of each
fold model's metrics on its own holdout (H2O's ``cross_validation_metrics_summary``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..predict import labeled
from ..train.evaluate import ScoreSet, score


@dataclass
class HoldoutPart:
    """One fold's holdout rows on this rank: rows int64[n] (global row indices), y, w
    float64[n] (training units), out float[n, n_out] (network outputs), labels and probs as
    ``predict.labeled`` gives them."""

    rows: np.ndarray
    y: np.ndarray
    w: np.ndarray
    out: np.ndarray
    labels: np.ndarray
    probs: np.ndarray | None


class HoldoutKeeper:
    """Collects, fold after fold, what the fold models predict on their holdouts (every rank)."""

    def __init__(self, comm):
        self.comm = comm
        self.parts: list[HoldoutPart] = []
        self.fold_metrics: list[dict] = []   # each fold model's metrics on its whole holdout
        self.epochs: list[float] = []        # each fold model's final epoch count
        self.model = None                    # the last fold model (scores the combined rows)

    def keep(self, model, rows: np.ndarray, held: ScoreSet, threads: int) -> None:
        """The final fold ``model``'s outputs on this rank's holdout rows (a collective)."""
        out = model.raw_output(held.nums, held.cats, threads, off=held.off)
        self.fold_metrics.append(score(model, held, out, self.comm))
        self.parts.append(HoldoutPart(rows, held.y, held.w, out, *labeled(model, out)))
        self.epochs.append(float(model.epoch_counter))
        self.model = model

    def cross_validation_metrics(self) -> dict:
        """Metrics of every fold's holdout predictions together (a collective).  The fold
        models share the column plan of the whole frame, so one model converts all outputs."""
        y = np.concatenate([p.y for p in self.parts])
        w = np.concatenate([p.w for p in self.parts])
        out = np.concatenate([p.out for p in self.parts])
        return score(self.model, ScoreSet(None, None, y, w), out, self.comm)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def summary(fold_metrics: list[dict]) -> dict:
    """{metric: {"mean", "sd", "folds": [value per fold]}} over the scalar metrics of the
    folds (sd: the sample standard deviation, n - 1, as H2O's; NaN for one fold)."""
    out = {}
    for key, first in fold_metrics[0].items():
        if not _is_number(first) or key == "nobs":
            continue
        values = [float(m.get(key, math.nan)) for m in fold_metrics]
        sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        out[key] = {"mean": float(np.mean(values)), "sd": sd, "folds": values}
    return out
