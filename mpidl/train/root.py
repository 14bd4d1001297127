"""Rank 0's state of one training run: the clocks, the tuner, the progress printer, and the
rules that read and update the scoring history and the best model.

Only rank 0 holds a ``RootState`` (the other ranks hold None): whatever it decides reaches the
other ranks through the broadcast ``Control`` record (``train/control.py``), never through
state of their own.  The scoring history and the best model live in the model (its file keeps
them, so a restart continues them), but only this object changes them.
"""

from __future__ import annotations

import time

import numpy as np

from ..checkpoint import write_model
from ..stopping import ScoringClock
from ..varimp import model_importances
from . import evaluate
from .control import Control, initial_control
from .periodic import PeriodicCheckpoints, export_finished, interval_seconds
from .progress import Progress, kept_line, slurm_end_time
from .schedule import AutoTuner, time_capped_tspi
from .timing import PhaseSeconds


def runtime_capped(model, tspi: int, seconds_per_row: float) -> int:
    """``tspi`` capped by the time max_runtime_secs leaves (H2O stops an iteration at the
    time limit); seconds_per_row: measured, over all ranks (0: not known, no cap)."""
    p = model.params
    if p.max_runtime_secs <= 0 or seconds_per_row <= 0:
        return tspi
    return time_capped_tspi(tspi, p.max_runtime_secs - model.train_seconds, seconds_per_row)


class RootState:
    """Rank 0's state for one run of ``model``.

    metric: the resolved stopping metric; has_valid: a validation frame is scored;
    tspi_plan: rows per iteration when not auto-tuned; rows, trainers, t_comm: training rows,
    training ranks and the model allreduce's seconds (for -2's tuner); out_path: the model
    file; log, say: print a line (``say`` also under quiet_mode).  Training time starts at
    construction (``train_seconds`` continues the model's own, e.g. after a restart).
    """

    def __init__(self, model, metric: str, has_valid: bool, tspi_plan: int, rows: int,
                 trainers: int, t_comm: float, out_path: str, log, say):
        p = model.params
        self.model, self.metric, self.has_valid = model, metric, has_valid
        self.tspi_plan, self.out_path, self.log, self.say = tspi_plan, out_path, log, say
        self.tuner = (AutoTuner(rows, trainers, p.epochs, t_comm, p.target_ratio_comm_to_comp)
                      if p.train_samples_per_iteration == -2 else None)
        self.clock = ScoringClock(p.score_interval, p.score_duty_cycle)
        self.base_seconds = model.train_seconds
        self.progress = Progress(p.epochs, p.max_runtime_secs, model.epoch_counter,
                                 model.train_seconds, slurm_end_time())
        self.periodic = PeriodicCheckpoints(out_path, interval_seconds(p.checkpoint_interval),
                                            model.train_seconds)
        self.timed_out = False      # max_runtime_secs reached (set before each scoring)
        self.reported = False       # whether the ranks' idle times reached the tuner yet
        self.last_loss = np.inf     # the last scoring's loss, at the end of training
        self.phases = PhaseSeconds()  # seconds per phase since the last history row
        self.t_start = time.perf_counter()

    def initial_control(self) -> Control:
        return initial_control(self.model, self.model.tspi)

    # ---------------------------------------------------------------- decide
    def before_scoring(self, signalled: bool) -> tuple[str, str, float]:
        """(action, reason, 0): 'diverged', 'continue', or 'score' (the verdict then waits
        for the metrics)."""
        m, p = self.model, self.model.params
        if not np.all(np.isfinite(m.params_view())):
            return "diverged", "non-finite weights", 0.0
        now = time.perf_counter()
        m.train_seconds = self.base_seconds + (now - self.t_start)
        self.timed_out = p.max_runtime_secs > 0 and m.train_seconds >= p.max_runtime_secs
        final = m.epoch_counter >= p.epochs or signalled or self.timed_out
        if not self.clock.should_score(now, final=final,
                                       score_each_iteration=p.score_each_iteration):
            return "continue", "", 0.0
        return "score", "", 0.0

    def verdict(self, signalled: bool) -> Control | str:
        """The iteration's first word: "score" (the control record waits for the metrics),
        or else, without scoring, the control record itself (one broadcast, not two)."""
        action, reason, dt = self.before_scoring(signalled)
        return action if action == "score" else self.control(action, reason, dt)

    def record(self, train_m: dict, valid_m: dict | None) -> None:
        """A scoring-history row for the metrics just scored, and its progress line."""
        m = self.model
        speed = m.processed / max(1e-9, m.train_seconds - m.scoring_seconds)
        row = evaluate.history_row(m, train_m, valid_m, speed)
        row.update(self.phases.take())
        m.history.append(row)
        self.log(self.progress.line(row), flush=True)

    def after_scoring(self, t0: float, signalled: bool, train_m: dict,
                      valid_m: dict | None) -> tuple[str, str, float]:
        """(action, reason, scoring seconds): best model, scoring clock and stopping rules
        after the scoring that began at ``t0``."""
        m, p = self.model, self.model.params
        loss = evaluate.best_loss(train_m, valid_m, self.metric)
        if p.overwrite_with_best_model and loss < m.best_loss:
            m.best_loss = loss
            m.best_buf = m.buf.copy()
            m.best_at = {"iteration": m.iterations, "epochs": m.epoch_counter,
                         "samples": m.processed, "loss": loss}
        dt = time.perf_counter() - t0
        if m.history:
            m.history[-1]["scoring_seconds"] = round(dt, 6)
        self.clock.record(t0, dt)
        m.scoring_seconds += dt
        if signalled:
            return "signal", "signal", dt
        series = evaluate.stopping_series(m.history, self.metric, self.has_valid)
        reason = evaluate.stop_reason(m, train_m, self.metric, series)
        if not reason and self.timed_out:
            reason = "max_runtime_secs"
        return ("stop" if reason else "continue"), reason, dt

    def control(self, action: str, reason: str, dt: float) -> Control:
        """The control record after an iteration's verdict."""
        m = self.model
        tspi = self.tuner.tspi(m.tspi) if self.tuner else self.tspi_plan
        busy = m.train_seconds - m.scoring_seconds
        tspi = runtime_capped(m, tspi, busy / m.processed if m.processed else 0.0)
        due = action == "continue" and self.periodic.due(m.train_seconds)
        return Control(action, tspi, m.huber_delta, m.processed, reason, dt, due)

    def observe(self, compute: float, rows: int, idle_sum: float, own_idle: float,
                nranks: int) -> None:
        """-2's tuner learns the iteration: compute seconds and rows summed over the ranks,
        and the mean over ranks of last iteration's idle time (``idle_sum / nranks``: a rank
        that finished early and waited counts as much as rank 0); the first time, when no
        rank's idle time has been reported yet, rank 0's own ``own_idle``."""
        if self.tuner:
            self.tuner.observe(compute, rows, idle_sum / nranks if self.reported else own_idle)
        self.reported = True

    # ---------------------------------------------------------------- files
    def _importances(self) -> None:
        """The model's variable importances from its current weights, when asked for (H2O
        computes them at every scoring; the model file keeps those of the weights it holds)."""
        if self.model.params.variable_importances:
            self.model.variable_importances = model_importances(self.model)

    def write_periodic(self, local_bufs) -> None:
        self._importances()
        path = self.periodic.write(self.model, local_bufs)
        self.log(f"checkpoint written to {path}", flush=True)

    def write_on_signal(self, local_bufs) -> None:
        self._importances()
        write_model(self.out_path, self.model, local_bufs)
        self.say(f"signal received: checkpoint written to {self.out_path}; "
                 f"resume with --set checkpoint={self.out_path}", flush=True)

    def write_final(self) -> None:
        """The model file, and its copy in export_checkpoints_dir."""
        m = self.model
        self._importances()
        write_model(self.out_path, m)
        exported = export_finished(m, m.params.export_checkpoints_dir)
        if exported:
            self.log(f"model exported to {exported} (export_checkpoints_dir)")

    # ---------------------------------------------------------------- finish
    def take_best(self) -> bool:
        """At the end: whether overwrite_with_best_model restores an earlier scoring's model
        (not after a timeout: H2O's rule); if so the model's buffer becomes it.  Keeps the
        run's counters in ``run_totals`` and the last scoring's loss."""
        m, p = self.model, self.model.params
        self.last_loss = evaluate.best_loss(m.training_metrics, m.validation_metrics or None,
                                            self.metric)
        m.run_totals = {"iterations": m.iterations, "epochs": m.epoch_counter,
                        "samples": m.processed}
        restore = bool(p.overwrite_with_best_model and m.stop_reason != "max_runtime_secs"
                       and m.best_buf is not None and m.best_at and m.best_loss < self.last_loss)
        if restore:
            m.buf[:] = m.best_buf
        return restore

    def took_best(self) -> None:
        """After the restored model was scored: it keeps its own epochs and samples (those of
        the scoring that kept it); says which model was kept and why."""
        m = self.model
        m.epoch_counter, m.processed = m.best_at["epochs"], m.best_at["samples"]
        self.log(kept_line(m, self.metric, self.last_loss), flush=True)
