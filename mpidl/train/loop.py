"""The training loop (spec section 6.1): iterate Hogwild training, combine, score, decide.

Per iteration, on every rank: build this rank's row order, run the Hogwild kernel on the
local model copy, one small allreduce (rows done, contributors, signals), one allreduce of
the whole model buffer (average or elastic average).  Then rank 0 scores when H2O's clock
says so, applies the stopping rules, keeps the best model, and broadcasts one decision that
every rank acts on.  Only rank 0 writes files and prints progress.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass

import numpy as np

from ..checkpoint import write_model
from ..errors import UserError
from ..memory import current_rss_bytes, peak_rss_bytes, return_freed_memory_promptly
from ..params import resolve_stopping_metric
from ..stopping import ScoringClock
from . import evaluate
from .averaging import average_models, elastic_average, iteration_counts
from .schedule import (AutoTuner, calibration_rows, fill_chunk_rows, fill_limit,
                       importance_weights, initial_tspi, iteration_order, local_fraction)
from .setup import (build_model, global_rows, make_shard, open_training, training_score_set,
                    validation_score_set)


class TrainingDiverged(Exception):
    """The model's weights became non-finite (H2O: 'unstable model')."""


class CheckpointedOnSignal(Exception):
    """A SIGTERM/SIGUSR1 reached some rank; the model was checkpointed for a resubmission."""


@dataclass
class Decision:
    """What every rank does after an iteration (broadcast from rank 0)."""

    action: str            # "continue", "stop", "signal", "diverged"
    tspi: int
    reason: str = ""
    scoring_seconds: float = 0.0   # rank 0's scoring in this iteration (others wait it out)


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


def _train_local(model, buf, center, shard, order, threads, seeds):
    """Run the Hogwild kernel (online, or mini-batch when mini_batch_size > 1) over ``order``;
    returns rows processed."""
    from ..kernels.online import train_chunk, train_hogwild
    units, mult, woff, boff, act, out_kind, ratios = model.net_args()
    args = (buf, center, units, mult, woff, boff, act, out_kind, model.loss_code(),
            model.optimizer_code(), model.hyper(), ratios, shard.nums, shard.cats, shard.y,
            order)
    batch = int(model.params.mini_batch_size)
    if batch > 1:
        from ..kernels.minibatch import train_minibatch
        return int(train_minibatch(*args, batch, threads, seeds))
    if threads == 1:
        return int(train_chunk(*args, 0, order.shape[0], seeds[0], 1))
    return int(train_hogwild(*args, threads, seeds))


class Trainer:
    """One training run; construct on every rank, then call :meth:`run` on every rank."""

    def __init__(self, params, comm, threads: int, out_path: str, model_id: str, log=print):
        self.comm = comm
        self.threads = 1 if params.reproducible else max(1, int(threads))
        self.out_path = out_path
        self.log = log if comm.is_root else (lambda *a, **k: None)
        t0 = time.perf_counter()
        return_freed_memory_promptly()
        self.rss_start = current_rss_bytes()
        frame, cols, first = open_training(params, comm)
        self.read_bytes = sum(np.asarray(v).nbytes for v in cols.values())
        self.model, notes = build_model(params, frame, cols, comm, model_id, self.log,
                                         self.threads)
        for note in notes:
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
        self.t_comm = self._measure_allreduce()
        self.model.comm_seconds = self.t_comm
        self.setup_seconds = time.perf_counter() - t0

    def _measure_allreduce(self) -> float:
        """Seconds of one allreduce of the model buffer (best of 3, slowest rank); 0 on one rank."""
        if self.comm.size == 1:
            return 0.0
        scratch = np.zeros_like(self.model.buf)
        return min(self.comm.timed_allreduce(scratch) for _ in range(3))

    def _calibrate(self) -> float:
        """Measured seconds per training row on one rank (slowest rank), for -2's first guess.

        Trains a few hundred rows on a throw-away copy of the model (after one row that only
        warms the kernel up), so the model itself is untouched.
        """
        m, shard = self.model, self.shard
        k = calibration_rows(m.layout.units, shard.n) if self._trains() else 0
        per_row = 0.0
        if k > 0:
            scratch = m.buf.copy()
            center = m.buf.copy() if m.params.elastic_averaging else np.zeros(1, m.buf.dtype)
            seeds = _thread_seeds(m.params.seed, 0, self.comm.rank, self.threads)
            _train_local(m, scratch, center, shard, np.zeros(1, np.int64), self.threads, seeds)
            t0 = time.perf_counter()
            _train_local(m, scratch, center, shard, np.arange(k, dtype=np.int64), self.threads,
                         seeds)
            per_row = (time.perf_counter() - t0) / k
        return float(self.comm.allreduce_max(np.array([per_row]))[0])

    def _train_while_waiting(self, local, center, rng, weights, share_rows: int,
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
        order = iteration_order(self.shard.n, limit / self.shard.n, rng, True, weights)
        unit = self.threads * max(1, int(p.mini_batch_size))
        chunk = fill_chunk_rows(share_seconds / share_rows, unit, share_rows, order.shape[0])
        pos = rows = part = 0
        seconds = 0.0
        while pos < order.shape[0] and not pending.done():
            part += 1
            seeds = _thread_seeds(p.seed, m.iterations, comm.rank, self.threads, part)
            t0 = time.perf_counter()
            rows += _train_local(m, local, center, self.shard, order[pos:pos + chunk],
                                 self.threads, seeds)
            seconds += time.perf_counter() - t0
            pos += chunk
        pending.wait()
        return rows, seconds

    def _trains(self) -> bool:
        """Whether this rank trains (in single_node_mode only rank 0 does)."""
        return self.comm.is_root or self.trainers > 1

    # ------------------------------------------------------------------ rank 0
    def _score(self, speed: float) -> tuple[dict, dict | None]:
        m = self.model
        sets = [s for s in (self.train_set, self.valid_set) if s is not None]
        outs = [m.raw_output(s.nums, s.cats, self.threads) for s in sets]   # once per set
        train_m = evaluate.score(m, sets[0], outs[0])
        valid_m = evaluate.score(m, sets[1], outs[1]) if self.valid_set else None
        if m.params.loss == "Huber":
            m.huber_delta = evaluate.huber_delta(m, sets[-1], outs[-1])
        m.training_metrics, m.validation_metrics = train_m, (valid_m or {})
        row = evaluate.history_row(m, train_m, valid_m, speed)
        m.history.append(row)
        self.log(evaluate.progress_line(row), flush=True)
        return train_m, valid_m

    def _decide(self, clock: ScoringClock, t_start: float, signalled: bool) -> Decision:
        m, p = self.model, self.model.params
        tspi = m.tspi
        if self.tuner:
            tspi = self.tuner.tspi(tspi)
        if not np.all(np.isfinite(m.params_view())):
            return Decision("diverged", tspi, "non-finite weights")
        now = time.perf_counter()
        m.train_seconds = self.base_seconds + (now - t_start)
        timed_out = p.max_runtime_secs > 0 and m.train_seconds >= p.max_runtime_secs
        final = m.epoch_counter >= p.epochs or signalled or timed_out
        if not clock.should_score(now, final=final, score_each_iteration=p.score_each_iteration):
            return Decision("continue", tspi)
        t0 = time.perf_counter()
        speed = m.processed / max(1e-9, m.train_seconds - m.scoring_seconds)
        train_m, valid_m = self._score(speed)
        loss = evaluate.best_loss(train_m, valid_m, self.metric)
        if p.overwrite_with_best_model and loss < m.best_loss:
            m.best_loss = loss
            m.best_buf = m.buf.copy()
        dt = time.perf_counter() - t0
        clock.record(t0, dt)
        m.scoring_seconds += dt
        if signalled:
            return Decision("signal", tspi, "signal", dt)
        series = evaluate.stopping_series(m.history, self.metric, self.valid_set is not None)
        reason = evaluate.stop_reason(m, train_m, self.metric, series)
        if not reason and timed_out:
            reason = "max_runtime_secs"
        return Decision("stop" if reason else "continue", tspi, reason, dt)

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
        """Best-model restore (not after a timeout: H2O's rule), final scoring, write."""
        m, p = self.model, self.model.params
        current = evaluate.best_loss(m.training_metrics, m.validation_metrics or None, self.metric)
        if (p.overwrite_with_best_model and m.stop_reason != "max_runtime_secs"
                and m.best_buf is not None and m.best_loss < current):
            m.buf[:] = m.best_buf
            speed = m.processed / max(1e-9, m.train_seconds - m.scoring_seconds)
            self._score(speed)
            self.log(f"restored the best model (loss {m.best_loss:.6g} by {self.metric})")
        write_model(self.out_path, m)

    # ------------------------------------------------------------------ all ranks
    def run(self):
        """Train to the end; returns the model on rank 0 (None elsewhere)."""
        from numba import set_num_threads
        set_num_threads(self.threads)
        comm, m, p, shard = self.comm, self.model, self.model.params, self.shard
        t_row = self._calibrate() if p.train_samples_per_iteration == -2 else 0.0
        m.tspi = initial_tspi(p.train_samples_per_iteration, self.rows, self.trainers,
                              self.replicated, p.epochs, t_row, self.t_comm,
                              p.target_ratio_comm_to_comp)
        self.tuner = (AutoTuner(self.rows, self.trainers, p.epochs, self.t_comm,
                                p.target_ratio_comm_to_comp)
                      if p.train_samples_per_iteration == -2 else None)
        self.log(f"training {m.model_id}: {self.rows} rows, {m.layout.n_params} weights/biases, "
                 f"{comm.size} rank(s) x {self.threads} thread(s)"
                 f"{' (rank 0 trains: single_node_mode)' if self.trainers == 1 < comm.size else ''}"
                 f", {m.tspi} samples/iteration, model allreduce {1e3 * self.t_comm:.1f} ms, "
                 f"stopping metric {self.metric}", flush=True)
        weights = importance_weights(shard.w)
        fill = (bool(p.train_while_waiting) and p.train_samples_per_iteration == -2
                and self.trainers > 1)
        ea = bool(p.elastic_averaging)
        local = m.buf.copy() if ea else m.buf
        center = m.buf if ea else np.zeros(1, dtype=m.buf.dtype)
        scratch = np.empty_like(m.buf) if ea else None
        clock = ScoringClock(p.score_interval, p.score_duty_cycle)
        self.base_seconds = m.train_seconds
        t_start = time.perf_counter()
        first_ea = True
        idle = 0.0   # this rank's seconds outside its compute and scoring, last iteration
        reported = False   # whether ``idle`` of an earlier iteration reached the allreduce
        with _SignalFlag() as sig:
            while True:
                m.iterations += 1
                t_it = time.perf_counter()
                frac = (local_fraction(m.tspi, self.rows, self.trainers, self.replicated)
                        if self._trains() else 0.0)
                rng = np.random.default_rng([p.seed & (2**63 - 1), m.iterations, comm.rank])
                order = iteration_order(shard.n, frac, rng, p.shuffle_training_data, weights)
                seeds = _thread_seeds(p.seed, m.iterations, comm.rank, self.threads)
                t_c = time.perf_counter()
                n_local = _train_local(m, local, center, shard, order, self.threads, seeds)
                t_compute = time.perf_counter() - t_c
                if fill:
                    limit = (fill_limit(order.shape[0], self.rows, p.epochs, m.processed,
                                        m.tspi, self.trainers) if self._trains() else 0)
                    extra, seconds = self._train_while_waiting(local, center, rng, weights,
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
                d = (self._decide(clock, t_start, signalled) if comm.is_root else None)
                d = comm.bcast_obj(d)
                m.tspi = d.tspi
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
                    if comm.is_root:
                        write_model(self.out_path, m)
                        self.log(f"signal received: checkpoint written to {self.out_path}; "
                                 f"resume with --set checkpoint={self.out_path}", flush=True)
                    comm.barrier()
                    raise CheckpointedOnSignal(self.out_path)
                if d.action == "stop":
                    m.stop_reason = d.reason
                    break
        mem = comm.gather_obj((peak_rss_bytes(), self.read_bytes, self.rss_start))
        if comm.is_root:
            self._report_memory(mem)
            self._finish()
            return m
        return None


def train(params, comm, threads: int, out_path: str, model_id: str, log=print):
    """Train a model on every rank of ``comm``; rank 0 writes it to ``out_path`` and returns it."""
    return Trainer(params, comm, threads, out_path, model_id, log).run()

