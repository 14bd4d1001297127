"""Human and JSON views of a model: H2O's "status of neuron layers", scoring history, metrics."""

from __future__ import annotations

import math

import numpy as np

from .kernels.codes import OPT_ADADELTA
from .metrics import confusion_matrix_table
from .varimp import TABLE_COLUMNS, importance_table


def layer_rows(model) -> list[dict]:
    """H2O's model summary table (spec 13.1), one dict per layer, input first."""
    lay, p, buf = model.layout, model.params, model.buf
    rows = [{"layer": 1, "units": lay.units[0], "type": "Input",
             "dropout": 100.0 * p.input_dropout_ratio}]
    hdr = p.hidden_dropout_ratios or []
    dropout_act = p.activation.endswith("WithDropout")
    for l in range(lay.n_layers):
        w = lay.weights(buf, l)
        b = lay.biases(buf, l)
        hidden = l < lay.n_layers - 1
        row = {"layer": l + 2, "units": lay.units[l + 1], "type": lay.layer_type(l, dropout_act),
               "dropout": 100.0 * hdr[l] if hidden and l < len(hdr) else (0.0 if hidden else None),
               "l1": p.l1, "l2": p.l2}
        if model.optimizer_code() == OPT_ADADELTA:
            eg = lay.weights(lay.slot(buf, 1), l)
            edx = lay.weights(lay.slot(buf, 2), l)
            rate = np.sqrt(edx.astype(np.float64) + p.epsilon) / np.sqrt(eg.astype(np.float64)
                                                                          + p.epsilon)
            row.update(mean_rate=float(rate.mean()), rate_rms=float(rate.std()), momentum=0.0)
        else:  # manual rate, or Adam's step size (its momentum parameters are 0)
            n = model.processed
            ramp = p.momentum_ramp
            mom = p.momentum_start + (p.momentum_stable - p.momentum_start) * (
                min(n, ramp) / ramp if ramp > 0 else 0.0)
            rate = p.rate * p.rate_decay ** l / (1 + p.rate_annealing * n)
            row.update(mean_rate=float(rate), rate_rms=0.0, momentum=float(mom))
        row.update(mean_weight=float(w.mean()), weight_rms=float(w.std()),
                   mean_bias=float(b.mean()), bias_rms=float(b.std()))
        rows.append(row)
    return rows


def title(model) -> str:
    """H2O's summary title line."""
    d, p = model.dinfo, model.params
    if d.autoencoder:
        what = f"autoencoder of {d.full_n} inputs"
    elif d.classification:
        what = f"predicting {d.response}, {d.nclasses}-class classification"
    else:
        what = f"predicting {d.response}, regression"
    return (f"{what}, {p.distribution} distribution, {p.loss} loss, "
            f"{model.n_params:,} weights/biases, {model.buf.nbytes / 2**20:.1f} MB, "
            f"{model.processed:,} training samples, mini-batch size {p.mini_batch_size}")


def fmt_epochs(epochs: float) -> str:
    """Epochs as every text view shows them (the log, the final line, ``inspect``)."""
    return f"{epochs:.3f}"


def duration(seconds: float) -> str:
    """Seconds as a person reads them: 8.4s, 3m05s, 2h07m."""
    if not math.isfinite(seconds):
        return "?"
    s = max(0.0, seconds)
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def stop_text(model, metric: str) -> str:
    """Why training stopped, from ``model.stop_reason`` (spec 8's rules), in plain words."""
    p, reason = model.params, model.stop_reason
    run = model.run_totals or {}
    epochs = run.get("epochs", model.epoch_counter)
    if reason == "epochs":
        return f"epochs reached ({fmt_epochs(epochs)} of {p.epochs:g})"
    if reason == "early_stopping":
        return (f"early stopping on {metric} (no improvement of more than stopping_tolerance "
                f"{p.stopping_tolerance:g} over {p.stopping_rounds} scoring rounds, "
                f"{fmt_epochs(epochs)} epochs)")
    if reason == "max_runtime_secs":
        return (f"max_runtime_secs ({p.max_runtime_secs:g}s) reached after "
                f"{duration(model.train_seconds)}, {fmt_epochs(epochs)} epochs")
    if reason == "classification_stop":
        return (f"training classification error <= classification_stop "
                f"{p.classification_stop:g} ({fmt_epochs(epochs)} epochs)")
    if reason == "regression_stop":
        return (f"training MSE <= regression_stop {p.regression_stop:g} "
                f"({fmt_epochs(epochs)} epochs)")
    return reason or "-"


def fmt_cell(v) -> str:
    """A table cell: floats to 6 significant digits (JSON keeps them whole)."""
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return f"{v:.6g}"
    return str(v)


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Fixed-width text table of dict rows."""
    if not rows:
        return "(empty)"
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    cells = [[fmt_epochs(r[c]) if c == "epochs" and r.get(c) is not None else fmt_cell(r.get(c))
              for c in cols] for r in rows]
    width = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, width))]
    lines += ["  ".join(x.rjust(w) for x, w in zip(r, width)) for r in cells]
    return "\n".join(lines)


def _metrics_text(name: str, m: dict, domain) -> str:
    if not m:
        return ""
    keys = [k for k in ("MSE", "RMSE", "logloss", "AUC", "pr_auc", "classification_error",
                        "mean_per_class_error", "r2", "mae", "rmsle", "mean_residual_deviance",
                        "nobs") if k in m]
    out = [f"{name} metrics:"] + [f"  {k}: {fmt_cell(m[k])}" for k in keys]
    if "hit_ratios" in m:
        out.append("  top-K hit ratios: " + ", ".join(f"{v:.4f}" for v in m["hit_ratios"]))
    if "confusion_matrix_omitted" in m:
        out.append(f"  confusion matrix omitted: {m['confusion_matrix_omitted']}")
    if "confusion_matrix" in m and domain:
        out += ["  " + line for line in confusion_matrix_table(m["confusion_matrix"],
                                                               domain).splitlines()]
    return "\n".join(out)


def text_report(model) -> str:
    """The ``inspect`` report."""
    history_cols = None
    if model.history:
        history_cols = [k for k in model.history[-1] if k != "timestamp"]
    parts = [f"model {model.model_id}", title(model), "",
             "Status of neuron layers:", table(layer_rows(model)), "",
             f"Scoring history ({len(model.history)} events; stopped: {_stop(model)}):",
             table(model.history, history_cols) if model.history else "(none)", "",
             _metrics_text("training", model.training_metrics, model.dinfo.response_domain),
             _metrics_text("validation", model.validation_metrics, model.dinfo.response_domain),
             _metrics_text("cross-validation", model.cross_validation_metrics,
                           model.dinfo.response_domain),
             _cv_summary_text(model.cross_validation_metrics_summary),
             _class_dist_text(model),
             _importances_text(model)]
    return "\n".join(p for p in parts if p is not None).rstrip() + "\n"


def _class_dist_text(model) -> str | None:
    """balance_classes: each class's share of the training frame and of the resampled rows
    the network trained on (probabilities are corrected from the second to the first)."""
    if model.model_class_dist is None:
        return None
    rows = [{"class": lv, "training_frame": prior, "trained_on": sampled} for lv, prior, sampled
            in zip(model.dinfo.response_domain, model.prior_class_dist, model.model_class_dist)]
    return ("Class distribution (balance_classes; probabilities corrected back to the "
            "training frame's):\n" + table(rows))


def _cv_summary_text(summary: dict) -> str:
    """H2O's cross-validation metrics summary: mean, sd and each fold's value per metric."""
    if not summary:
        return ""
    nfolds = len(next(iter(summary.values()))["folds"])
    rows = [{"metric": k, "mean": v["mean"], "sd": v["sd"],
             **{f"cv_{i + 1}_valid": x for i, x in enumerate(v["folds"])}}
            for k, v in summary.items()]
    return f"\ncross-validation metrics summary ({nfolds} folds):\n" + table(rows)


def importance_rows(model) -> list[dict] | None:
    """H2O's variable importance table of ``model`` (``varimp.py``), None when it has none."""
    if not model.variable_importances:
        return None
    return importance_table(model.dinfo.coef_names(), model.variable_importances)


def _importances_text(model) -> str:
    rows = importance_rows(model)
    if rows is None:
        return ""
    return "\n".join(["", "Variable importances:", table(rows, list(TABLE_COLUMNS))])


def _stop(model) -> str:
    """stop_text with the model's resolved stopping metric, and the kept model if restored."""
    from .params import resolve_stopping_metric
    text = stop_text(model, resolve_stopping_metric(model.params, model.dinfo.classification))
    if model.run_totals.get("samples", model.processed) != model.processed:
        text += f"; kept the model of iteration {model.best_at['iteration']}"
    return text


def json_report(model) -> dict:
    """The ``inspect --json`` object (design.md's contract)."""
    return {
        "model_id": model.model_id,
        "parameters": model.params.to_dict(),
        "response_column": model.dinfo.response,
        "response_domain": model.dinfo.response_domain,
        "n_params": model.n_params,
        "layers": layer_rows(model),
        "epochs": model.epoch_counter,
        "iterations": model.iterations,
        "samples": model.processed,
        "kept_model": model.best_at if model.run_totals.get("samples", model.processed)
        != model.processed else None,
        "run": model.run_totals,
        "training_rows": model.training_rows,
        "nranks": model.nranks,
        "train_samples_per_iteration": model.tspi,
        "allreduce_seconds": model.comm_seconds,
        "memory": model.memory,
        "stop_reason": model.stop_reason,
        "prior_class_dist": model.prior_class_dist,
        "model_class_dist": model.model_class_dist,
        "scoring_history": model.history,
        "training_metrics": model.training_metrics,
        "validation_metrics": model.validation_metrics,
        "cross_validation_metrics": model.cross_validation_metrics,
        "cross_validation_metrics_summary": model.cross_validation_metrics_summary,
        "cross_validation_files": model.cross_validation_files,
        "variable_importances": importance_rows(model),
    }
