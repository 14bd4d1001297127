"""``python -m mpidl report MODEL -o report.html``: one self-contained HTML page of a model
(styles inline, figures as ``data:image/png;base64`` URIs, no script, nothing fetched):
parameters, the layer status table, the scoring history (table and plot), training and
validation metrics, confusion matrix, variable importances and ROC."""

from __future__ import annotations

import base64
import html
import math

from .metrics import confusion_matrix_table
from .report import fmt_cell, importance_rows, layer_rows, title
from .varimp import TABLE_COLUMNS

SECTIONS = ("Parameters", "Status of neuron layers", "Scoring history", "Metrics",
            "Confusion matrix", "Variable importances", "ROC")
_METRIC_KEYS = ("MSE", "RMSE", "logloss", "AUC", "pr_auc", "classification_error",
                "mean_per_class_error", "r2", "mae", "rmsle", "mean_residual_deviance", "nobs")
_STYLE = """
body { font-family: sans-serif; margin: 2em auto; padding: 0 2em; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f0f0f0; } td.name, th.name { text-align: left; }
.scroll { max-height: 24em; max-width: 100%; overflow: auto; display: inline-block; }
img { max-width: 100%; } pre { background: #f7f7f7; padding: 0.5em; display: inline-block; }
.note { color: #666; font-size: 0.85em; }
"""


def _cell(v) -> str:
    if isinstance(v, (list, dict)):
        return html.escape(str(v))
    return html.escape(fmt_cell(v))


def html_table(rows: list[dict], columns: list[str] | None = None, first_is_name=True) -> str:
    """An HTML table of dict rows (numbers as ``inspect`` shows them)."""
    if not rows:
        return '<p class="note">(none)</p>'
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    cls = lambda i: ' class="name"' if first_is_name and i == 0 else ""  # noqa: E731
    head = "".join(f"<th{cls(i)}>{html.escape(c)}</th>" for i, c in enumerate(cols))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{_cell(r.get(c))}</td>"
                                    for i, c in enumerate(cols)) + "</tr>" for r in rows)
    return f'<div class="scroll"><table><tr>{head}</tr>{body}</table></div>'


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>'


def _parameters(model) -> str:
    declared = model.params.to_dict()
    rows = [{"parameter": k, "value": v} for k, v in declared.items()]
    return html_table(rows)


def _metrics(model) -> str:
    rows = []
    for which, m in (("training", model.training_metrics),
                     ("validation", model.validation_metrics)):
        if m:
            rows.append({"metrics": which, **{k: m[k] for k in _METRIC_KEYS if k in m}})
    return html_table(rows) if rows else '<p class="note">(not scored)</p>'


def _confusion(model, png) -> str:
    parts = []
    for which, m in (("training", model.training_metrics),
                     ("validation", model.validation_metrics)):
        if m and "confusion_matrix" in m and model.dinfo.response_domain:
            text = confusion_matrix_table(m["confusion_matrix"], model.dinfo.response_domain)
            parts.append(f"<h3>{which}</h3><pre>{html.escape(text)}</pre>")
        elif m and "confusion_matrix_omitted" in m:
            parts.append(f'<p class="note">{which}: omitted '
                         f'({html.escape(str(m["confusion_matrix_omitted"]))})</p>')
    if not parts:
        kind = "autoencoder" if model.dinfo.autoencoder else "regression"
        return f'<p class="note">({kind}: no confusion matrix)</p>'
    return "".join(parts) + _img(png, "confusion matrix")


def report_html(model, pngs: dict[str, bytes]) -> str:
    """The page; ``pngs``: the figures by ``plots.PLOT_FILES`` name (missing: not drawn)."""
    history_cols = [k for k in model.history[-1] if k != "timestamp"] if model.history else None
    varimp = importance_rows(model)
    sections = {
        "Parameters": _parameters(model),
        "Status of neuron layers": html_table(layer_rows(model), first_is_name=False),
        "Scoring history": _img(pngs.get("scoring_history.png"), "scoring history")
        + html_table(model.history, history_cols, first_is_name=False),
        "Metrics": _metrics(model),
        "Confusion matrix": _confusion(model, pngs.get("confusion_matrix.png")),
        "Variable importances": (_img(pngs.get("variable_importance.png"), "variable importance")
                                 + html_table(varimp, list(TABLE_COLUMNS))) if varimp
        else '<p class="note">(not computed: variable_importances = false)</p>',
        "ROC": _img(pngs.get("roc.png"), "ROC") if "roc.png" in pngs
        else '<p class="note">(binary classifiers only)</p>',
    }
    body = "".join(f'<h2 id="{s.lower().replace(" ", "-")}">{html.escape(s)}</h2>\n'
                   f"{sections[s]}\n" for s in SECTIONS)
    epochs = model.epoch_counter if math.isfinite(model.epoch_counter) else 0.0
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>mpidl model {html.escape(model.model_id)}</title>"
            f"<style>{_STYLE}</style></head><body>\n"
            f"<h1>mpidl model {html.escape(model.model_id)}</h1>\n"
            f"<p>{html.escape(title(model))}; {epochs:.3f} epochs; stopped: "
            f"{html.escape(model.stop_reason or '-')}</p>\n{body}</body></html>\n")


def write_report(model_path: str, out_path: str) -> str:
    """Write the page of the model file ``model_path`` to ``out_path`` (checked before the model
    is read; written atomically); returns ``out_path``."""
    from .atomic import atomic_path
    from .checkpoint import read_model
    from .destination import check_destination
    from .plots import model_figures, png_bytes, require_matplotlib
    require_matplotlib()
    check_destination(out_path, [model_path])
    model = read_model(model_path)
    figs = model_figures(model, importance_rows(model))
    page = report_html(model, {name: png_bytes(fig) for name, fig in figs.items()})
    with atomic_path(out_path, [model_path]) as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    return out_path
