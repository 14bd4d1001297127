"""A model's figures as PNG (matplotlib, the ``[plot]`` extra): scoring history, variable
importances, confusion matrix, ROC; ``python -m mpidl plot MODEL -o DIR`` writes them.

Figures are built on matplotlib's object API (``Figure`` with the Agg canvas), never pyplot's
global state, so no display or backend choice is involved.  Each file is written atomically.
"""

from __future__ import annotations

import io
import os

from .errors import UserError

PLOT_FILES = ("scoring_history.png", "variable_importance.png", "confusion_matrix.png",
              "roc.png")
TOP_IMPORTANCES = 20            # bars in the variable importance plot (most important first)
_METRIC_LABELS = {"mse": "reconstruction MSE"}   # axis labels other than the column's name
_DPI = 100


def require_matplotlib() -> None:
    """UserError with the install line when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError("plots need matplotlib, which is not installed: "
                        "pip install mpidl[plot]") from None


def history_metric(model) -> str:
    """The scoring-history metric Flow draws: logloss for classifiers, deviance for
    regression, an autoencoder's reconstruction MSE (rmse when the history has neither)."""
    keys = model.history[-1] if model.history else {}
    if model.dinfo.classification:
        return "logloss"
    if model.dinfo.autoencoder and "training_mse" in keys:
        return "mse"
    return "deviance" if "training_deviance" in keys else "rmse"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=_DPI, layout="constrained")


def scoring_history_figure(model):
    """Training (and validation) metric against epochs and against training time (s)."""
    metric = history_metric(model)
    name = _METRIC_LABELS.get(metric, metric)
    fig = _figure(10, 4)
    for ax, x, label in zip(fig.subplots(1, 2), ("epochs", "duration"),
                            ("epochs", "training time (s)")):
        for kind, style in (("training", "o-"), ("validation", "s--")):
            col = f"{kind}_{metric}"
            pts = [(r[x], r[col]) for r in model.history if r.get(col) is not None]
            if pts:
                ax.plot(*zip(*pts), style, markersize=3, label=kind)
        ax.set_xlabel(label)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(f"Scoring history - {name} ({model.model_id})")
    return fig


def importance_figure(rows: list[dict]):
    """Horizontal bars of scaled importance, the most important on top (``rows``: H2O's
    table, sorted)."""
    top = rows[:TOP_IMPORTANCES][::-1]
    fig = _figure(8, 1.2 + 0.3 * len(top))
    ax = fig.subplots()
    ax.barh([r["variable"] for r in top], [r["scaled_importance"] for r in top],
            color="#1f77b4")
    ax.set_xlabel("scaled importance")
    ax.set_xlim(0, 1.05)
    ax.set_title(f"Variable importance (top {len(top)} of {len(rows)})")
    return fig


def confusion_figure(cm: list[list[float]], domain: list[str], which: str):
    """Counts of actual (rows) by predicted (columns) class, as H2O's table holds them."""
    import numpy as np
    counts = np.asarray(cm, dtype=float)
    n = len(domain)
    fig = _figure(1.5 + 0.6 * max(n, 3), 1.2 + 0.6 * max(n, 3))
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(n), domain, rotation=45 if n > 4 else 0)
    ax.set_yticks(range(n), domain)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    if n <= 20:
        light = counts.max() / 2 if counts.size else 0
        for (i, j), v in np.ndenumerate(counts):
            ax.text(j, i, f"{v:g}", ha="center", va="center",
                    color="white" if v > light else "black", fontsize=8)
    ax.set_title(f"Confusion matrix ({which})")
    return fig


def roc_figure(curves: dict[str, tuple[list, float]]):
    """ROC curves: ``curves`` maps training / validation to (roc rows, AUC); roc rows are
    [threshold, fpr, tpr] from the metrics' 400-bin AUC histogram (``metrics_stats``)."""
    fig = _figure(5, 5)
    ax = fig.subplots()
    for which, (roc, auc) in curves.items():
        fpr = [0.0] + [r[1] for r in roc]
        tpr = [0.0] + [r[2] for r in roc]
        ax.plot(fpr, tpr, label=f"{which} (AUC {auc:.4f})")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("ROC")
    ax.legend(loc="lower right")
    return fig


def confusion_source(model) -> tuple[dict, str] | None:
    """(metrics, which) whose confusion matrix is shown: validation when scored, else
    training; None when neither has one (regression, or too many classes)."""
    for m, which in ((model.validation_metrics, "validation"), (model.training_metrics,
                                                                 "training")):
        if m and "confusion_matrix" in m:
            return m, which
    return None


def model_figures(model, importance_rows) -> dict:
    """{file name: Figure} of every figure ``model`` has (``importance_rows``: H2O's table
    or None)."""
    figs = {}
    if model.history:
        figs["scoring_history.png"] = scoring_history_figure(model)
    if importance_rows:
        figs["variable_importance.png"] = importance_figure(importance_rows)
    source = confusion_source(model)
    if source and model.dinfo.response_domain:
        figs["confusion_matrix.png"] = confusion_figure(source[0]["confusion_matrix"],
                                                        model.dinfo.response_domain, source[1])
    curves = {which: (m["roc"], m["AUC"]) for m, which in
              ((model.training_metrics, "training"), (model.validation_metrics, "validation"))
              if m and m.get("roc")}
    if curves:
        figs["roc.png"] = roc_figure(curves)
    return figs


def png_bytes(fig) -> bytes:
    """The figure as PNG."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=_DPI)
    return out.getvalue()


def write_plots(model_path: str, out_dir: str) -> list[str]:
    """Write the model's figures into the existing folder ``out_dir``; returns their paths.
    Every destination is checked before the model is read (UserError naming it)."""
    from .atomic import atomic_path
    from .checkpoint import read_model
    from .destination import check_destination
    from .report import importance_rows
    require_matplotlib()
    if not os.path.isdir(out_dir):
        what = "is not a folder" if os.path.lexists(out_dir) else "folder does not exist"
        raise UserError(f"{out_dir}: {what} (give an existing folder to write the plots in)")
    for name in PLOT_FILES:
        check_destination(os.path.join(out_dir, name), [model_path])
    model = read_model(model_path)
    written = []
    for name, fig in model_figures(model, importance_rows(model)).items():
        data = png_bytes(fig)
        path = os.path.join(out_dir, name)
        with atomic_path(path, [model_path]) as tmp, open(tmp, "wb") as f:
            f.write(data)
        written.append(path)
    return written
