"""What rank 0 tells the user about a training run: notes, progress lines, the end.

- ``notes_to_print``: of ``sanitize``'s notes, only those about a value the user gave (one that
  differs from H2O's default) and the AUTO choices that change what is trained (loss and
  distribution), as H2O's model summary reports them.  A value left at H2O's default counts as
  unset: a job that writes ``rate = 0.005`` under ADADELTA is not told it is unused.
- ``Progress.line``: one line per scoring event, with the elapsed training time and the time
  left until ``epochs`` or ``max_runtime_secs``, whichever comes first (H2O's "Estimated time
  left"), and under SLURM the time left until the job's limit (``SLURM_JOB_END_TIME``).
- ``memory_summary``, ``memory_line``: each rank's peak RSS beside its data and the model, and
  its RSS, PSS and shared memory at the end of training.
- ``kept_line``, ``final_line``: which scoring's model was
  kept by ``overwrite_with_best_model`` and why, and the last line of a run (with
  ``report.stop_text``: why training stopped).
"""

from __future__ import annotations

import math
import os
import time

from ..params import DEFAULTS
from ..report import duration, fmt_epochs, stop_text

AUTO_CHOICES = ("distribution", "loss")


def notes_to_print(user_params, notes: list[str]) -> list[str]:
    """The notes (``"name: old -> new (why)"``) worth a line: ``name`` set by the user, or an
    AUTO choice of loss / distribution."""
    out = []
    for note in notes:
        name = note.split(":", 1)[0]
        if name in AUTO_CHOICES or user_params[name] != DEFAULTS[name]:
            out.append(note)
    return out


def slurm_end_time(environ=os.environ) -> float | None:
    """The job's time limit as a Unix time (SLURM_JOB_END_TIME), or None outside SLURM."""
    try:
        end = float(environ.get("SLURM_JOB_END_TIME", ""))
    except ValueError:
        return None
    return end if end > 0 else None


class Progress:
    """Progress lines of one run (a restart counts from its own start).

    epochs: the target; max_runtime: seconds (0 = none); start_epochs, start_seconds: the
    model's epochs and training seconds when this run began; job_end: Unix time of the
    SLURM job's limit or None.
    """

    def __init__(self, epochs: float, max_runtime: float, start_epochs: float,
                 start_seconds: float, job_end: float | None = None):
        self.epochs, self.max_runtime = float(epochs), float(max_runtime)
        self.start_epochs, self.start_seconds = float(start_epochs), float(start_seconds)
        self.job_end = job_end

    def seconds_left(self, epochs: float, seconds: float) -> float:
        """Estimated seconds until training ends, at this run's speed so far (epochs per
        second of training, scoring included)."""
        done, spent = epochs - self.start_epochs, seconds - self.start_seconds
        left = math.inf
        if epochs >= self.epochs:
            left = 0.0
        elif done > 0 and spent > 0:
            left = spent * (self.epochs - epochs) / done
        if self.max_runtime > 0:
            left = min(left, max(0.0, self.max_runtime - seconds))
        return left

    def line(self, row: dict, now: float | None = None) -> str:
        """The progress line for a scoring-history ``row``; ``now``: Unix time (for SLURM)."""
        parts = [f"iter {row['iterations']:>4}", f"epochs {fmt_epochs(row['epochs']):>8}",
                 f"samples {row['samples']:>10}", f"{row['training_speed']:>9.0f} rows/s",
                 f"elapsed {duration(row['duration']):>6}",
                 f"left {duration(self.seconds_left(row['epochs'], row['duration'])):>6}"]
        if self.job_end is not None:
            now = time.time() if now is None else now
            parts.append(f"job limit in {duration(self.job_end - now)}")
        for prefix, short in (("training", "train"), ("validation", "valid")):
            classifier = f"{prefix}_logloss" in row
            cols = ((("logloss", "logloss"), ("classification_error", "err"), ("auc", "AUC"))
                    if classifier else (("rmse", "RMSE"), ("r2", "r2")))
            for col, name in cols:
                v = row.get(f"{prefix}_{col}")
                if v is not None:
                    parts.append(f"{short} {name} {v:.5g}")
        return "  ".join(parts)


_MEMORY_KEYS = ("peak_rss_mb", "data_read_mb", "rss_at_start_mb", "rss_at_end_mb",
                "pss_at_end_mb", "shared_at_end_mb", "data_held_mb")


def memory_summary(per_rank, model_bytes: int) -> dict:
    """The model's ``memory`` record (MB) from (peak RSS, data read, RSS at start, at the end
    of training RSS, PSS, shared, and the training rows' arrays held) bytes per rank."""
    mb = lambda b: round(b / 2**20, 1)  # noqa: E731
    out = {key: [mb(r[i]) for r in per_rank] for i, key in enumerate(_MEMORY_KEYS)}
    return {**out, "model_mb": mb(model_bytes)}


def memory_line(memory: dict) -> str:
    """The line that prints a ``memory_summary``: the end's PSS adds up to the node's memory
    (a page shared by k ranks counts 1/k on each), shared is what other processes map too."""
    each = lambda key: "/".join(f"{x:.0f}" for x in memory[key])  # noqa: E731
    return (f"memory per rank (MB): peak RSS {each('peak_rss_mb')}, data read "
            f"{each('data_read_mb')}, data held {each('data_held_mb')}, model "
            f"{memory['model_mb']}, at start "
            f"{each('rss_at_start_mb')}; at end RSS {each('rss_at_end_mb')}, PSS "
            f"{each('pss_at_end_mb')}, shared {each('shared_at_end_mb')}")


def kept_line(model, metric: str, last_loss: float) -> str:
    """The line printed when overwrite_with_best_model restores an earlier scoring's model."""
    best = model.best_at
    which = "validation" if model.validation_metrics else "training"
    return (f"kept the model of iteration {best['iteration']} ({fmt_epochs(best['epochs'])} "
            f"epochs, {best['samples']:,} samples): its {which} {metric} {_loss(best['loss'], metric)}"
            f" beats the last iteration's {_loss(last_loss, metric)} "
            "(overwrite_with_best_model)")


def _loss(loss: float, metric: str) -> str:
    """A best-model loss back in the metric's own terms (1 - AUC etc. undone)."""
    from ..stopping import more_is_better
    return f"{1.0 - loss if more_is_better(metric) else loss:.5g}"


def final_line(model, out_path: str, metric: str) -> str:
    """The last line of a run: where the model is, what stopped training, its main metric."""
    m = model.validation_metrics or model.training_metrics
    which = "validation" if model.validation_metrics else "training"
    key = "classification_error" if model.dinfo.classification else "RMSE"
    kept = (f"the model of iteration {model.best_at['iteration']}, "
            if model.run_totals.get("samples", model.processed) != model.processed else "")
    return (f"model written to {out_path} ({kept}{fmt_epochs(model.epoch_counter)} epochs); "
            f"stopped: {stop_text(model, metric)}; {which} {key} "
            f"{m.get(key, float('nan')):.5g}")
