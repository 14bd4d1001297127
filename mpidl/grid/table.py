"""A grid's files and its table: which points are done, failed or interrupted, the metric a
grid ranks models by, ``grid.csv`` (best first, as H2O's grid table) and its printed form.

Point ``I`` of grid ``GRID`` is the model file ``DIR/GRID_model_I.h5`` (a normal model file);
a point that failed leaves ``DIR/GRID_model_I.failed`` (one line: why) instead.  A model file
whose ``stop_reason`` is ``signal`` is an interrupted model, resumable from that file.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass

from ..atomic import atomic_path
from ..checkpoint import read_model
from ..metrics import metric_value
from ..params.text import format_value
from ..stopping import more_is_better, resolve_stopping_metric, stop_early

GRID_CSV = "grid.csv"


def model_path(folder: str, grid_id: str, index: int) -> str:
    """The model file of point ``index``."""
    return os.path.join(folder, f"{grid_id}_model_{index}.h5")


def failure_path(folder: str, grid_id: str, index: int) -> str:
    """The file that says why point ``index`` failed."""
    return os.path.join(folder, f"{grid_id}_model_{index}.failed")


def point_state(folder: str, grid_id: str, index: int) -> str:
    """'done', 'failed', 'interrupted' (a resumable model file) or 'todo'."""
    if os.path.exists(failure_path(folder, grid_id, index)):
        return "failed"
    path = model_path(folder, grid_id, index)
    if not os.path.exists(path):
        return "todo"
    return "interrupted" if read_model(path).stop_reason == "signal" else "done"


def ranking_metrics(model) -> tuple[str, dict]:
    """(which, metrics) a grid ranks ``model`` by: H2O's ScoringInfo.metric order,
    cross-validation metrics when the model has them, else validation, else training."""
    if model.cross_validation_metrics:
        return "cross-validation", model.cross_validation_metrics
    if model.validation_metrics:
        return "validation", model.validation_metrics
    return "training", model.training_metrics


def model_kind(model) -> str:
    """'classification', 'regression' or 'autoencoder' (for AUTO's metric)."""
    if model.params.autoencoder:
        return "autoencoder"
    return "classification" if model.dinfo.classification else "regression"


@dataclass
class Row:
    """One model of the grid table: its point, hyper-parameter values, the ranking metric's
    value (and on which data), training seconds and samples."""

    index: int
    model_id: str
    hyper: dict
    metric: str
    value: float
    scored_on: str
    seconds: float
    samples: int


def model_row(path: str, index: int, hyper: dict, metric: str) -> Row:
    """The table row of the finished model in ``path``; ``metric`` may be AUTO."""
    model = read_model(path)
    name = resolve_stopping_metric(metric, model_kind(model))
    which, metrics = ranking_metrics(model)
    return Row(index, model.model_id, hyper, name, metric_value(metrics, name), which,
               float(model.train_seconds), int(model.processed))


def finished_rows(folder: str, grid_id: str, points: list[dict], metric: str) -> list[Row]:
    """Rows of every finished model of the grid in ``folder``, best first."""
    rows = [model_row(model_path(folder, grid_id, i), i, point, metric)
            for i, point in enumerate(points) if point_state(folder, grid_id, i) == "done"]
    return sort_rows(rows)


def sort_rows(rows: list[Row]) -> list[Row]:
    """Best first by the ranking metric (NaN last, ties by point index)."""
    def key(r: Row):
        bad = math.isnan(r.value)
        v = 0.0 if bad else (-r.value if more_is_better(r.metric) else r.value)
        return (bad, v, r.index)
    return sorted(rows, key=key)


def grid_converged(rows: list[Row], rounds: int, tolerance: float) -> bool:
    """H2O's grid-level early stop: ScoreKeeper.stopEarly over the models' metrics sorted
    worst to best (``rows`` is best first)."""
    if rounds <= 0 or not rows:
        return False
    values = [r.value for r in reversed(rows)]
    return stop_early(values, rounds, rows[0].metric, tolerance)


def table_csv(rows: list[Row], hyper_names: list[str]) -> str:
    """grid.csv's text: model_id, the hyper-parameters, the metric (named with where it was
    measured), training seconds, samples; best first."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    metric = rows[0].metric if rows else "metric"
    w.writerow(["model_id", *hyper_names, metric, "scored_on", "training_seconds", "samples"])
    for r in rows:
        w.writerow([r.model_id, *(format_value(r.hyper[n]) for n in hyper_names),
                    repr(r.value), r.scored_on, f"{r.seconds:.3f}", r.samples])
    return out.getvalue()


def write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a UserError naming it when it cannot)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_table(folder: str, rows: list[Row], hyper_names: list[str]) -> str:
    """Write ``DIR/grid.csv`` atomically; returns its path."""
    path = os.path.join(folder, GRID_CSV)
    write_text(path, table_csv(rows, hyper_names))
    return path


def table_text(rows: list[Row], hyper_names: list[str]) -> str:
    """The grid table as aligned text columns (what ``grid`` prints at the end)."""
    body = list(csv.reader(io.StringIO(table_csv(rows, hyper_names))))
    widths = [max(len(line[c]) for line in body) for c in range(len(body[0]))]
    return "".join("  ".join(cell.ljust(wd) for cell, wd in zip(line, widths)).rstrip() + "\n"
                   for line in body)
