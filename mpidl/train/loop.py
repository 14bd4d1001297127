"""The training loop (spec section 6.1): iterate Hogwild training, combine, score, decide.

Per iteration, on every rank: build this rank's row order, run the Hogwild kernel on the
local model copy, one small allreduce (rows done, contributors, signals), one allreduce of
the whole model buffer (average or elastic average).  Then, when H2O's clock on rank 0 says
so, every rank scores its rows of the scoring samples (metrics from sums reduced over the
ranks); rank 0 applies the stopping rules, keeps the best model, and broadcasts one decision
that every rank acts on.  Only rank 0 writes files and prints progress.
"""

from __future__ import annotations

import signal
import time

import numpy as np

from ..checkpoint import write_model
from ..errors import UserError
from ..memory import current_rss_bytes, peak_rss_bytes, return_freed_memory_promptly
from ..params import resolve_stopping_metric
from ..stopping import ScoringClock
from . import evaluate
from .averaging import average_models, elastic_average, iteration_counts
from .control import Control, initial_control, share
from .periodic import (PeriodicCheckpoints, check_export_dir, export_finished, gather_local_models,
                       interval_seconds, restore_local_model)
from .progress import Progress, kept_line, notes_to_print, slurm_end_time
from .rows import RowPlan, auto_shuffle, importance_weights, rank_shares
from .schedule import (AutoTuner, calibration_rows, fill_chunk_rows, fill_limit, initial_tspi,
                       time_capped_tspi)
from .setup import (build_model, global_rows, make_shard, open_training, training_score_set,
                    validation_score_set)
from .threadcount import candidates, describe, pick_threads


class TrainingDiverged(Exception):
    """The model's weights became non-finite (H2O: 'unstable model')."""


class CheckpointedOnSignal(Exception):
    """A SIGTERM/SIGUSR1 reached some rank; the model was checkpointed for a resubmission."""


class _SignalFlag:
    """Records SIGTERM / SIGUSR1 so training can stop cleanly at the end of the iteration.

    On leaving, SIGTERM gets its old handler back; SIGUSR1 (SLURM's warning before the time
    limit) is ignored from then on unless something else had claimed it: once training is
    over there is nothing left to checkpoint, and its default action would kill the rank
    while it writes the final model."""

    def __init__(self):
        self.raised = False
        self._old = {}

    def __enter__(self):
        for s in (signal.SIGTERM, signal.SIGUSR1):
            self._old[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame):
        self.raised = True

    def __exit__(self, *exc):
        for s, h in self._old.items():
            ignore = s == signal.SIGUSR1 and h in (signal.SIG_DFL, None)
            # a handler that does nothing, not SIG_IGN: an ignored signal stays ignored in
            # every process started afterwards (a shell cannot even trap it)
            signal.signal(s, _ignore if ignore else h)


def _ignore(signum, frame):
    """A signal handler that does nothing."""


def _thread_seeds(seed: int, iteration: int, rank: int, threads: int, part: int = 0) -> np.ndarray:
    """One int64 seed per Hogwild thread for (seed, iteration, rank); ``part`` > 0 numbers the
    kernel calls that train while waiting, so each gets streams of its own."""
    key = [seed & (2**63 - 1), iteration, rank] + ([part] if part else [])
    return np.random.SeedSequence(key).generate_state(threads, np.uint64).view(np.int64)


def _train_local(model, buf, center, shard, order, threads, seeds, hp):
    """Run the Hogwild kernel (online, or mini-batch when mini_batch_size > 1) over ``order``
    with the hyper-parameters ``hp`` (``Control.kernel_hyper``); returns rows processed."""
    from ..kernels.bundles import Net, Objective, Rows
    from ..kernels.online import train_chunk, train_hogwild
    args = (Net(*model.net_args()), Objective(model.loss_code(), model.optimizer_code(), hp),
            buf, center, Rows(shard.nums, shard.cats, shard.y), order)
    batch = int(model.params.mini_batch_size)
    if batch > 1:
        from ..kernels.minibatch import train_minibatch
        return int(train_minibatch(*args, batch, threads, seeds))
    if threads == 1:
        return int(train_chunk(*args, 0, order.shape[0], seeds[0], 1))
    return int(train_hogwild(*args, threads, seeds))


class Trainer:
    """One training run; construct on every rank, then call :meth:`run` on every rank."""

    def __init__(self, params, comm, threads: int, out_path: str, model_id: str, log=print,
                 choose_threads: bool = False):
        """threads: Hogwild threads per rank, or the most to choose from when
        ``choose_threads`` (the user gave no ``--threads``)."""
        self.comm = comm
        self.threads = 1 if params.reproducible else max(1, int(threads))
        self.choose_threads = choose_threads
        self.out_path = out_path
        quiet = lambda *a, **k: None  # noqa: E731
        self.say = log if comm.is_root else quiet          # lines quiet_mode keeps
        self.log = quiet if params.quiet_mode else self.say
        t0 = time.perf_counter()
        comm.call_agreed(check_export_dir, params.export_checkpoints_dir)
        return_freed_memory_promptly()
        self.rss_start = current_rss_bytes()
        frame, cols, first = open_training(params, comm)
        for line in frame.notes:
            self.log(f"note: {line}")
        self.read_bytes = sum(np.asarray(v).nbytes for v in cols.values())
        self.model, notes = build_model(params, frame, cols, comm, model_id, self.log,
                                         self.threads)
        for note in notes_to_print(params, notes):
            self.log(f"note: {note}")
        self.shard = make_shard(self.model, frame, cols, first, comm)
        del cols
        p = self.model.params
        self.replicated = bool(p.replicate_training_data) and comm.size > 1
        self.trainers = 1 if p.single_node_mode else comm.size   # ranks that train
        self.rows = global_rows(self.shard, comm, self.replicated)
        if self.rows == 0:
            raise UserError(f"{p.training_frame}: no training rows with a usable response")
        self.model.training_rows = self.rows
        self.model.nranks = comm.size
        self.train_set = training_score_set(self.model, self.shard, self.rows, comm,
                                            self.replicated)
        self.valid_set = validation_score_set(self.model, comm)
        self.metric = resolve_stopping_metric(p, self.model.dinfo.classification)
        self.timed_out = False   # rank 0: max_runtime_secs reached (set before each scoring)
        self.t_comm = self._measure_allreduce()
        self.model.comm_seconds = self.t_comm
        self.setup_seconds = time.perf_counter() - t0

    def _measure_allreduce(self) -> float:
        """Seconds of one allreduce of the model buffer (best of 3, slowest rank); 0 on one rank."""
        if self.comm.size == 1:
            return 0.0
        scratch = np.zeros_like(self.model.buf)
        return min(self.comm.timed_allreduce(scratch) for _ in range(3))

    def _seconds_per_row(self, threads: int, seconds: float = 0.2) -> float:
        """Measured seconds per training row with ``threads`` Hogwild threads (slowest rank).

        Trains about ``seconds`` of rows (at most 2,000) on a throw-away copy of the model,
        after one row that only warms the kernel up, so the model itself is untouched.
        A collective: every rank calls it; a rank that does not train reports 0.
        """
        from numba import set_num_threads
        m, shard = self.model, self.shard
        k = calibration_rows(m.layout.units, shard.n, seconds) if self._trains() else 0
        per_row = 0.0
        if k > 0:
            set_num_threads(threads)
            scratch = m.buf.copy()
            center = m.buf.copy() if m.params.elastic_averaging else np.zeros(1, m.buf.dtype)
            seeds = _thread_seeds(m.params.seed, 0, self.comm.rank, threads)
            hp = m.hyper(m.huber_delta, m.processed)
            _train_local(m, scratch, center, shard, np.zeros(1, np.int64), threads, seeds, hp)
            t0 = time.perf_counter()
            _train_local(m, scratch, center, shard, np.arange(k, dtype=np.int64), threads,
                         seeds, hp)
            per_row = (time.perf_counter() - t0) / k
        return float(self.comm.allreduce_max(np.array([per_row]))[0])

    def _choose_threads(self) -> int:
        """Threads per rank when the user gave none (``train/threadcount.py``): logs the
        choice.  At most the threads this rank was given; one without measuring if that is 1."""
        if not self.choose_threads:
            return self.threads
        if self.threads == 1:
            why = "reproducible" if self.model.params.reproducible else "one core per rank"
            self.log(describe({}, 1, why), flush=True)
            return 1
        measured = {n: self._seconds_per_row(n, 0.05) for n in candidates(self.threads)}
        chosen = pick_threads(measured)
        self.log(describe(measured, chosen), flush=True)
        return chosen

    def _train_while_waiting(self, local, center, rng, plan: RowPlan, hp, share_rows: int,
                             share_seconds: float, limit: int) -> tuple[int, float]:
        """train_while_waiting: start a barrier without waiting, and until every rank has
        reached it train more rows of this rank's shard (a fresh random pass, at most ``limit``)
        in kernel calls of ~5 ms, checking the barrier between calls.  A collective: every rank
        calls it, also one that trains nothing.  share_rows, share_seconds: the rows and kernel
        seconds of this rank's share of the iteration (for the call size).  Returns (extra rows
        trained, kernel seconds)."""
        m, p, comm = self.model, self.model.params, self.comm
        pending = comm.ibarrier()
        if limit == 0 or share_rows == 0 or pending.done():
            pending.wait()
            return 0, 0.0
        order = plan.order(limit, rng, shuffle=True)
        unit = self.threads * max(1, int(p.mini_batch_size))
        chunk = fill_chunk_rows(share_seconds / share_rows, unit, share_rows, order.shape[0])
        pos = rows = part = 0
        seconds = 0.0
        while pos < order.shape[0] and not pending.done():
            part += 1
            seeds = _thread_seeds(p.seed, m.iterations, comm.rank, self.threads, part)
            t0 = time.perf_counter()
            rows += _train_local(m, local, center, self.shard, order[pos:pos + chunk],
                                 self.threads, seeds, hp)
            seconds += time.perf_counter() - t0
            pos += chunk
        pending.wait()
        return rows, seconds

    def _row_plan(self) -> RowPlan:
        """This rank's row scheduler for the run (a collective: the ranks' shares)."""
        p, shard = self.model.params, self.shard
        weights = importance_weights(shard.w)
        shares = rank_shares(self.comm, shard.n, weights, self._trains(), self.replicated)
        shuffle = auto_shuffle(bool(p.shuffle_training_data), self.replicated, self.comm.size,
                               self.trainers, bool(p.reproducible), self.model.tspi, self.rows)
        return RowPlan(shard.n, self.comm.rank, shares, shuffle, weights)

    def _trains(self) -> bool:
        """Whether this rank trains (in single_node_mode only rank 0 does)."""
        return self.comm.is_root or self.trainers > 1

    # ------------------------------------------------------------------ scoring
    def _score(self, record: bool = True) -> tuple[dict, dict | None]:
        """Every rank scores its rows of the sampled frames (a collective); with ``record``,
        rank 0 adds a history row and prints it."""
        m, comm = self.model, self.comm
        sets = [s for s in (self.train_set, self.valid_set) if s is not None]
        outs = [m.raw_output(s.nums, s.cats, self.threads) for s in sets]   # once per set
        train_m = evaluate.score(m, sets[0], outs[0], comm)
        valid_m = evaluate.score(m, sets[1], outs[1], comm) if self.valid_set else None
        if m.params.loss == "Huber":   # from the training sample only, as H2O
            m.huber_delta = evaluate.huber_delta(m, sets[0], outs[0], comm)
        m.training_metrics, m.validation_metrics = train_m, (valid_m or {})
        if record and comm.is_root:
            speed = m.processed / max(1e-9, m.train_seconds - m.scoring_seconds)
            row = evaluate.history_row(m, train_m, valid_m, speed)
            m.history.append(row)
            self.log(self.progress.line(row), flush=True)
        return train_m, valid_m

    def _decide(self, clock: ScoringClock, t_start: float, signalled: bool) -> Control:
        """The control record for the next step, on every rank (a collective): when H2O's
        clock says score, rank 0 says so first and every rank scores its rows."""
        root = self.comm.is_root
        first = self.comm.bcast_obj(self._before_scoring(clock, t_start, signalled)
                                    if root else None)
        verdict = first
        if first[0] == "score":
            t0 = time.perf_counter()
            train_m, valid_m = self._score()
            verdict = (self._after_scoring(clock, t0, signalled, train_m, valid_m)
                       if root else None)
        return share(self.comm, self._control(*verdict) if root else None)

    # ------------------------------------------------------------------ rank 0
    def _control(self, action: str, reason: str, dt: float) -> Control:
        """The control record after an iteration's verdict (rank 0 only)."""
        m = self.model
        tspi = self.tuner.tspi(m.tspi) if self.tuner else self.tspi_plan
        busy = m.train_seconds - m.scoring_seconds
        tspi = self._time_capped(tspi, busy / m.processed if m.processed else 0.0)
        due = action == "continue" and self.periodic.due(m.train_seconds)
        return Control(action, tspi, m.huber_delta, m.processed, reason, dt, due)

    def _time_capped(self, tspi: int, seconds_per_row: float) -> int:
        """``tspi`` capped by the time max_runtime_secs leaves (H2O stops an iteration at the
        time limit); seconds_per_row: measured, over all ranks (0: not known, no cap)."""
        p, m = self.model.params, self.model
        if p.max_runtime_secs <= 0 or seconds_per_row <= 0:
            return tspi
        return time_capped_tspi(tspi, p.max_runtime_secs - m.train_seconds, seconds_per_row)

    def _before_scoring(self, clock: ScoringClock, t_start: float,
                        signalled: bool) -> tuple[str, str, float]:
        """(action, reason, 0): 'diverged', 'continue', or 'score' (the verdict then waits
        for the metrics)."""
        m, p = self.model, self.model.params
        if not np.all(np.isfinite(m.params_view())):
            return "diverged", "non-finite weights", 0.0
        now = time.perf_counter()
        m.train_seconds = self.base_seconds + (now - t_start)
        self.timed_out = p.max_runtime_secs > 0 and m.train_seconds >= p.max_runtime_secs
        final = m.epoch_counter >= p.epochs or signalled or self.timed_out
        if not clock.should_score(now, final=final, score_each_iteration=p.score_each_iteration):
            return "continue", "", 0.0
        return "score", "", 0.0

    def _after_scoring(self, clock: ScoringClock, t0: float, signalled: bool,
                       train_m: dict, valid_m: dict | None) -> tuple[str, str, float]:
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
        clock.record(t0, dt)
        m.scoring_seconds += dt
        if signalled:
            return "signal", "signal", dt
        series = evaluate.stopping_series(m.history, self.metric, self.valid_set is not None)
        reason = evaluate.stop_reason(m, train_m, self.metric, series)
        if not reason and self.timed_out:
            reason = "max_runtime_secs"
        return ("stop" if reason else "continue"), reason, dt

    def _report_memory(self, per_rank) -> None:
        """Keep and print each rank's peak RSS beside its data and the model's size (MB)."""
        mb = lambda b: round(b / 2**20, 1)  # noqa: E731
        m = self.model
        m.memory = {"peak_rss_mb": [mb(r[0]) for r in per_rank],
                    "data_read_mb": [mb(r[1]) for r in per_rank],
                    "rss_at_start_mb": [mb(r[2]) for r in per_rank],
                    "model_mb": mb(m.buf.nbytes)}
        self.log("memory per rank (MB): peak RSS " + "/".join(
            f"{x:.0f}" for x in m.memory["peak_rss_mb"]) + ", data read " + "/".join(
            f"{x:.0f}" for x in m.memory["data_read_mb"]) + f", model {m.memory['model_mb']}, "
            "at start " + "/".join(f"{x:.0f}" for x in m.memory["rss_at_start_mb"]), flush=True)

    def _finish(self) -> None:
        """Best-model restore (not after a timeout: H2O's rule), its metrics, write.  A
        collective: the best model (kept on rank 0) is broadcast and every rank scores it.

        A restored model keeps its own epochs and samples (those of the scoring that kept it);
        the run's are in ``run_totals``.  Its metrics are scored again, without a history row
        (the row of the scoring that kept it is already there)."""
        m, p, comm = self.model, self.model.params, self.comm
        restore, current = False, None
        if comm.is_root:
            current = evaluate.best_loss(m.training_metrics, m.validation_metrics or None,
                                         self.metric)
            m.run_totals = {"iterations": m.iterations, "epochs": m.epoch_counter,
                            "samples": m.processed}
            restore = bool(p.overwrite_with_best_model and m.stop_reason != "max_runtime_secs"
                           and m.best_buf is not None and m.best_at and m.best_loss < current)
            if restore:
                m.buf[:] = m.best_buf
        if comm.bcast_obj(restore):
            comm.bcast_array(m.buf)
            self._score(record=False)
            if comm.is_root:
                m.epoch_counter, m.processed = m.best_at["epochs"], m.best_at["samples"]
                self.log(kept_line(m, self.metric, current), flush=True)
        comm.call_root_agreed(self._write_final)

    def _write_final(self) -> None:
        """Rank 0: the model file, and its copy in export_checkpoints_dir."""
        m = self.model
        write_model(self.out_path, m)
        exported = export_finished(m, m.params.export_checkpoints_dir)
        if exported:
            self.log(f"model exported to {exported} (export_checkpoints_dir)")

    def _checkpoint_on_signal(self, local_bufs) -> None:
        write_model(self.out_path, self.model, local_bufs)
        self.say(f"signal received: checkpoint written to {self.out_path}; "
                 f"resume with --set checkpoint={self.out_path}", flush=True)

    # ------------------------------------------------------------------ all ranks
    def run(self):
        """Train to the end; returns the model on rank 0 (None elsewhere)."""
        from numba import set_num_threads
        comm, m, p, shard = self.comm, self.model, self.model.params, self.shard
        self.threads = self._choose_threads()
        set_num_threads(self.threads)
        timed = p.epochs > 0 and (p.train_samples_per_iteration == -2 or p.max_runtime_secs > 0)
        t_row = self._seconds_per_row(self.threads) if timed else 0.0
        self.tspi_plan = initial_tspi(p.train_samples_per_iteration, self.rows, self.trainers,
                                      self.replicated, p.epochs, t_row, self.t_comm,
                                      p.target_ratio_comm_to_comp)
        m.tspi = self._time_capped(self.tspi_plan, t_row / self.trainers)
        self.tuner = (AutoTuner(self.rows, self.trainers, p.epochs, self.t_comm,
                                p.target_ratio_comm_to_comp)
                      if p.train_samples_per_iteration == -2 else None)
        self.log(f"training {m.model_id}: {self.rows} rows, {m.layout.n_params} weights/biases, "
                 f"{comm.size} rank(s) x {self.threads} thread(s)"
                 f"{' (rank 0 trains: single_node_mode)' if self.trainers == 1 < comm.size else ''}"
                 f", {m.tspi} samples/iteration, model allreduce {1e3 * self.t_comm:.1f} ms, "
                 f"stopping metric {self.metric}", flush=True)
        plan = self._row_plan()
        fill = (bool(p.train_while_waiting) and p.train_samples_per_iteration == -2
                and self.trainers > 1)
        ea = bool(p.elastic_averaging)
        local = m.buf.copy() if ea else m.buf
        center = m.buf if ea else np.zeros(1, dtype=m.buf.dtype)
        scratch = np.empty_like(m.buf) if ea else None
        clock = ScoringClock(p.score_interval, p.score_duty_cycle)
        self.base_seconds = m.train_seconds
        self.progress = Progress(p.epochs, p.max_runtime_secs, m.epoch_counter, m.train_seconds,
                                 slurm_end_time())
        t_start = time.perf_counter()
        first_ea = not (ea and restore_local_model(m, comm, local))
        self.periodic = PeriodicCheckpoints(self.out_path, interval_seconds(p.checkpoint_interval),
                                            m.train_seconds)
        idle = 0.0   # this rank's seconds outside its compute and scoring, last iteration
        reported = False   # whether ``idle`` of an earlier iteration reached the allreduce
        d = share(comm, initial_control(m, m.tspi) if comm.is_root else None)
        with _SignalFlag() as sig:
            while True:
                m.iterations += 1
                t_it = time.perf_counter()
                rng = np.random.default_rng([p.seed & (2**63 - 1), m.iterations, comm.rank])
                order = plan.order(plan.local_rows(d.tspi) if p.epochs > 0 else 0, rng)
                seeds = _thread_seeds(p.seed, m.iterations, comm.rank, self.threads)
                hp = d.kernel_hyper(m)
                t_c = time.perf_counter()
                n_local = _train_local(m, local, center, shard, order, self.threads, seeds, hp)
                t_compute = time.perf_counter() - t_c
                if fill:
                    limit = (fill_limit(order.shape[0], self.rows, p.epochs, m.processed,
                                        m.tspi, self.trainers) if self._trains() else 0)
                    extra, seconds = self._train_while_waiting(local, center, rng, plan, hp,
                                                               n_local, t_compute, limit)
                    n_local += extra
                    t_compute += seconds
                contributors, total, signalled, compute, idle_all = iteration_counts(
                    comm, n_local, sig.raised, t_compute, idle)
                if ea:
                    elastic_average(comm, local, m.buf, n_local, contributors,
                                    p.elastic_averaging_moving_rate, first_ea, scratch)
                    first_ea = False
                else:
                    average_models(comm, m.buf, n_local, contributors)
                m.processed += total
                m.epoch_counter = m.processed / self.rows
                d = self._decide(clock, t_start, signalled)
                m.tspi, m.huber_delta = d.tspi, d.huber_delta
                idle = time.perf_counter() - t_it - t_compute - d.scoring_seconds
                if self.tuner and comm.is_root:
                    # the mean over ranks of last iteration's idle time: a rank that finished
                    # early and waited counts as much as rank 0 (the first time, rank 0's own)
                    self.tuner.observe(compute, total, idle_all / comm.size if reported else idle)
                reported = True
                if d.action == "diverged":
                    raise TrainingDiverged(
                        f"training diverged after {m.epoch_counter:.3g} epochs (non-finite "
                        "weights); lower rate, or raise epsilon / l2 / max_w2 limits")
                if d.action == "signal":
                    m.stop_reason = "signal"
                    local_bufs = gather_local_models(comm, local) if ea else None
                    comm.call_root_agreed(self._checkpoint_on_signal, local_bufs)
                    raise CheckpointedOnSignal(self.out_path)
                if d.checkpoint:
                    local_bufs = gather_local_models(comm, local) if ea else None
                    if comm.is_root:
                        path = self.periodic.write(m, local_bufs)
                        self.log(f"checkpoint written to {path}", flush=True)
                if d.action == "stop":
                    m.stop_reason = d.reason
                    break
            # still under the signal flag: a signal now is held until the model is written
            mem = comm.gather_obj((peak_rss_bytes(), self.read_bytes, self.rss_start))
            if comm.is_root:
                self._report_memory(mem)
            self._finish()
            if sig.raised:
                self.log("signal received after training ended: the model is complete")
        return m if comm.is_root else None


def train(params, comm, threads: int, out_path: str, model_id: str, log=print,
          choose_threads: bool = False):
    """Train a model on every rank of ``comm``; rank 0 writes it to ``out_path`` and returns it.
    ``choose_threads``: ``threads`` is the most per rank, the count is measured (see Trainer)."""
    return Trainer(params, comm, threads, out_path, model_id, log, choose_threads).run()

