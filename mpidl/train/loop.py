"""The training loop (spec section 6.1): per iteration, four named steps on every rank.

- train: this rank's rows of the iteration (``train/rows.py``) through the Hogwild kernel on
  its model copy, then with train_while_waiting more rows until every rank is done;
- average: one small allreduce (rows done, contributors, signals, seconds), then one allreduce
  of the whole model buffer (model averaging or elastic averaging, ``train/averaging.py``;
  with averaging_overlap started here and folded in an iteration later, ``train/overlap.py``);
- decide: when H2O's clock on rank 0 says so, every rank scores its rows of the scoring
  samples (metrics from sums reduced over the ranks); rank 0 applies the stopping rules,
  keeps the best model and broadcasts one ``Control`` record that every rank acts on;
- checkpoint: on a signal, or when the record says a periodic checkpoint is due.

Then finish: the best model restored, scored and written.  Rank 0's state (clocks, tuner,
progress lines, history and best-model rules) is one ``RootState`` (``train/root.py``); what
a rank holds of its own is its model copies (``ModelCopies``) and its shard.  Only rank 0
writes files and prints progress.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from ..errors import CheckpointedOnSignal, TrainingDiverged, UserError
from ..memory import (current_rss_bytes, peak_rss_bytes, resident_split_bytes,
                      return_freed_memory_promptly)
from ..params import resolve_stopping_metric
from ..varimp import saw_missing_cats
from . import calibrate, evaluate, kernel_call, threadcount
from .averaging import iteration_counts
from .balance import balance_shard
from .control import Control, share
from .fill import train_while_waiting
from .holdout import Holdout, holdout_sample, split_shard
from .node_data import data_node
from .copies import model_copies
from .periodic import check_export_dir
from .progress import memory_line, memory_summary, notes_to_print
from .root import RootState, runtime_capped
from .rows import RowPlan, auto_shuffle, importance_weights, rank_shares
from .schedule import fill_limit, initial_tspi
from .row_cache import RowCache, load_training
from .setup import global_rows, training_score_set, validation_score_set
from .signals import SignalFlag


@dataclass
class Work:
    """What the train step did on this rank: began at ``t_start`` (perf_counter seconds),
    trained ``rows`` rows in ``seconds`` seconds of kernel calls; its share was trained
    ``ready`` seconds after the start, and training (train_while_waiting's rows too) ended
    ``done`` seconds after it (kernel seconds only, for the wait: ``train/timing.py``)."""

    t_start: float
    rows: int
    seconds: float
    ready: float = 0.0
    done: float = 0.0


@dataclass
class Counts:
    """The iteration over all ranks (the average step's small allreduce): contributing ranks
    (nodes with node_shared_model), rows trained, whether any rank was signalled, kernel
    seconds summed, the ranks' idle seconds of the previous iteration summed, and the longest
    any rank waited for the slowest in this one."""

    contributors: int
    rows: int
    signalled: bool
    compute: float
    idle: float
    wait: float


class Trainer:
    """One training run; construct on every rank, then call :meth:`run` on every rank."""

    def __init__(self, params, comm, threads: int, out_path: str, model_id: str, log=print,
                 choose_threads: bool = False, holdout: Holdout | None = None,
                 rows: RowCache | None = None):
        """threads: Hogwild threads per rank, or the most to choose from when
        ``choose_threads`` (the user gave no ``--threads``); holdout: a cross-validation
        fold to leave out of training and validate on (``train/holdout.py``); rows: the
        rows loaded for earlier models, reused when this one's are the same
        (``train/row_cache.py``)."""
        self.comm = comm
        self.threads = 1 if params.reproducible else max(1, int(threads))
        self.choose_threads = choose_threads
        self.out_path = out_path
        quiet = lambda *a, **k: None  # noqa: E731
        self.say = log if comm.is_root else quiet          # lines quiet_mode keeps
        self.log = quiet if params.quiet_mode else self.say
        t0 = time.perf_counter()
        comm.call_agreed(check_export_dir, params.export_checkpoints_dir)
        comm.call_agreed(comm.simulate_network, os.environ.get("MPIDL_SIMULATE_NETWORK", ""))
        return_freed_memory_promptly()
        self.rss_start = current_rss_bytes()
        self.node = data_node(params, comm)     # replicated rows held once per node
        self.copies = None                      # this rank's model copies (from _start)
        self.model, notes, self.shard, self.read_bytes = load_training(
            params, comm, self.node, rows, model_id, self.log, self.threads)
        for note in notes_to_print(params, notes):
            self.log(f"note: {note}")
        self.model.saw_missing_cats = saw_missing_cats(self.shard.cats, self.model.dinfo, comm)
        p = self.model.params
        self.replicated = bool(p.replicate_training_data) and comm.size > 1
        self.holdout = holdout
        if holdout is not None:
            self.shard, self.held, self.held_rows = split_shard(self.shard, holdout, comm,
                                                                self.replicated)
        if p.balance_classes:
            self.shard = balance_shard(self.shard, self.model, comm, self.replicated, self.log)
        else:   # a checkpoint's distributions do not apply to rows trained unbalanced
            self.model.prior_class_dist = self.model.model_class_dist = None
        self.trainers = 1 if p.single_node_mode else comm.size   # ranks that train
        self.rows = global_rows(self.shard, comm, self.replicated)
        comm.agree(UserError(f"{p.training_frame}: no training rows with a usable response")
                   if self.rows == 0 else None)     # every rank knows: printed once, exit 2
        self.model.training_rows = self.rows
        self.model.nranks = comm.size
        self.train_set = training_score_set(self.model, self.shard, self.rows, comm,
                                            self.replicated)
        self.valid_set = (validation_score_set(self.model, comm, rows) if holdout is None else
                          holdout_sample(self.held, p.score_validation_samples, p.seed + 1, comm))
        self.metric = resolve_stopping_metric(p, self.model.dinfo.classification)
        self.t_comm = calibrate.allreduce_seconds(comm, self.model.buf)
        self.model.comm_seconds = self.t_comm
        self.setup_seconds = time.perf_counter() - t0

    def _trains(self) -> bool:
        """Whether this rank trains (in single_node_mode only rank 0 does)."""
        return self.comm.is_root or self.trainers > 1

    # ------------------------------------------------------------------ the loop
    def run(self):
        """Train to the end; returns the model on rank 0 (None elsewhere)."""
        self._start()
        d = share(self.comm, self.root.initial_control() if self.root else None)
        with SignalFlag() as sig:
            while True:
                work = self._train(d)
                counts = self._average(work, sig.raised)
                d = self._decide(work, counts)
                self._checkpoint(d)
                if d.action == "stop":
                    self.model.stop_reason = d.reason
                    break
            # still under the signal flag: a signal now is held until the model is written
            self.copies.release()
            self._finish(sig)
        if self.holdout is not None:
            self.holdout.keep(self.model, self.held_rows, self.held, self.threads)
        return self.model if self.comm.is_root else None

    def release(self) -> None:
        """Free the node's shared model (a private copy stays) and training rows (a
        collective of the node's ranks); the trainer cannot train after."""
        if self.copies is not None:
            self.copies.release()
        if self.node is not None:
            self.shard = None
            self.node.free_shared()

    # ------------------------------------------------------------------ start
    def _seconds_per_row(self, threads: int, seconds: float = 0.2) -> float:
        """Measured seconds per training row with ``threads`` threads (``calibrate``)."""
        m = self.model
        seeds = kernel_call.thread_seeds(m.params.seed, 0, self.comm.rank, threads)
        hp = m.hyper(m.huber_delta, m.processed)

        def train(buf, center, order):
            return kernel_call.train_rows(m, buf, center, self.shard, order, threads, seeds,
                                          hp)
        return calibrate.seconds_per_row(m, self.shard.n, self._trains(), self.comm, threads,
                                         seconds, train)

    def _choose_threads(self) -> int:
        """Threads per rank: measured when the user gave none (``train/threadcount.py``)."""
        if not self.choose_threads:
            return self.threads
        return threadcount.choose(self.threads, bool(self.model.params.reproducible),
                                  self._seconds_per_row, self.log)

    def _start(self) -> None:
        """Before the first iteration (collectives): threads, the first iteration's rows, the
        row scheduler, rank 0's state and this rank's model copies."""
        from numba import set_num_threads
        comm, m, p = self.comm, self.model, self.model.params
        self.threads = self._choose_threads()
        set_num_threads(self.threads)
        timed = p.epochs > 0 and (p.train_samples_per_iteration == -2 or p.max_runtime_secs > 0)
        t_row = self._seconds_per_row(self.threads) if timed else 0.0
        tspi_plan = initial_tspi(p.train_samples_per_iteration, self.rows, self.trainers,
                                 self.replicated, p.epochs, t_row, self.t_comm,
                                 p.target_ratio_comm_to_comp)
        m.tspi = runtime_capped(m, tspi_plan, t_row / self.trainers)
        self.log(f"training {m.model_id}: {self.rows} rows, {m.layout.n_params} weights/biases, "
                 f"{comm.size} rank(s) x {self.threads} thread(s)"
                 f"{' (rank 0 trains: single_node_mode)' if self.trainers == 1 < comm.size else ''}"
                 f", {m.tspi} samples/iteration, model allreduce {1e3 * self.t_comm:.1f} ms, "
                 f"stopping metric {self.metric}", flush=True)
        weights = importance_weights(self.shard.w)
        shares = rank_shares(comm, self.shard.n, weights, self._trains(), self.replicated)
        shuffle = auto_shuffle(bool(p.shuffle_training_data), self.replicated, comm.size,
                               self.trainers, bool(p.reproducible), m.tspi, self.rows)
        self.plan = RowPlan(self.shard.n, comm.rank, shares, shuffle, weights)
        self.fill = (bool(p.train_while_waiting) and p.train_samples_per_iteration == -2
                     and self.trainers > 1)
        self.root = (RootState(m, self.metric, self.valid_set is not None, tspi_plan, self.rows,
                               self.trainers, self.t_comm, self.out_path, self.log, self.say)
                     if comm.is_root else None)
        self.copies = model_copies(m, comm)   # blocking, overlapped or one per node
        if p.node_shared_model:
            self.log(f"node_shared_model: one model per node, averaged among "
                     f"{self.copies.nodes} node(s)")
        self.idle = 0.0   # this rank's seconds outside its compute and scoring, last iteration

    # ------------------------------------------------------------------ train
    def _train(self, d: Control) -> Work:
        """Train step: this rank's rows of the iteration ``d`` plans, then with
        train_while_waiting more rows until every rank is done (a collective then)."""
        m, p, comm, copies = self.model, self.model.params, self.comm, self.copies
        m.iterations += 1
        t_it = time.perf_counter()
        rng = np.random.default_rng([p.seed & (2**63 - 1), m.iterations, comm.rank])
        order = self.plan.order(self.plan.local_rows(d.tspi) if p.epochs > 0 else 0, rng)
        seeds = kernel_call.thread_seeds(p.seed, m.iterations, comm.rank, self.threads)
        hp = d.kernel_hyper(m)
        t_c = time.perf_counter()
        n_local = kernel_call.train_rows(m, copies.local, copies.center, self.shard, order,
                                         self.threads, seeds, hp)
        t_compute = time.perf_counter() - t_c
        ready = time.perf_counter() - t_it
        extra_seconds = 0.0
        if self.fill:
            limit = (fill_limit(order.shape[0], self.rows, p.epochs, m.processed, m.tspi,
                                self.trainers) if self._trains() else 0)

            def more(rows, part):
                seeds = kernel_call.thread_seeds(p.seed, m.iterations, comm.rank,
                                                 self.threads, part)
                return kernel_call.train_rows(m, copies.local, copies.center, self.shard, rows,
                                              self.threads, seeds, hp)
            unit = self.threads * max(1, int(p.mini_batch_size))
            extra, seconds = train_while_waiting(comm, self.plan, rng, limit, n_local,
                                                 t_compute, unit, more)
            n_local += extra
            extra_seconds = seconds
        return Work(t_it, n_local, t_compute + extra_seconds, ready, ready + extra_seconds)

    # ------------------------------------------------------------------ average
    def _average(self, work: Work, raised: bool) -> Counts:
        """Average step: the iteration's counts over all ranks (``raised``: a signal reached
        this rank), then the model averaging; the model's counters advance."""
        m = self.model
        counts = Counts(*iteration_counts(self.comm, work.rows, raised, work.seconds, self.idle,
                                          work.ready, work.done,
                                          self.copies.contributes(work.rows)))
        t0 = time.perf_counter()
        self.copies.combine(work.rows, counts.contributors)
        if self.root:
            self.root.phases.add("compute", work.seconds)
            self.root.phases.add("wait", counts.wait)
            self.root.phases.add("allreduce", time.perf_counter() - t0)
        m.processed += counts.rows
        m.epoch_counter = m.processed / self.rows
        return counts

    def _finish_average(self) -> None:
        """Wait for the average in flight (averaging_overlap) and fold it in, so every rank
        holds the same model; rank 0 counts the seconds as the model allreduce's."""
        t0 = time.perf_counter()
        self.copies.finish_average()
        if self.root:
            self.root.phases.add("allreduce", time.perf_counter() - t0)

    # ------------------------------------------------------------------ decide
    def _decide(self, work: Work, counts: Counts) -> Control:
        """Decide step: the broadcast control record for the next step (a collective); every
        rank takes its rows and Huber delta, rank 0's tuner learns the iteration."""
        m = self.model
        d = self._verdict(counts.signalled)
        m.tspi, m.huber_delta = d.tspi, d.huber_delta
        self.idle = time.perf_counter() - work.t_start - work.seconds - d.scoring_seconds
        if self.root:
            self.root.observe(counts.compute, counts.rows, counts.idle, self.idle,
                              self.comm.size)
        if d.action == "diverged":
            self._finish_average()
            raise TrainingDiverged(
                f"training diverged after {m.epoch_counter:.3g} epochs (non-finite "
                "weights); lower rate, or raise epsilon / l2 / max_w2 limits")
        return d

    def _verdict(self, signalled: bool) -> Control:
        """Rank 0 says whether to score first: if not, its one broadcast is the control
        record itself; if so every rank scores its rows, and rank 0's verdict then waits for
        the metrics (a second broadcast).  Returns the shared control record."""
        root = self.root
        said = share(self.comm, root.verdict(signalled) if root else None)
        if isinstance(said, Control):
            return said
        self._finish_average()
        t0 = time.perf_counter()
        train_m, valid_m = self._score()
        verdict = root.after_scoring(t0, signalled, train_m, valid_m) if root else None
        return share(self.comm, root.control(*verdict) if root else None)

    def _score(self, record: bool = True) -> tuple[dict, dict | None]:
        """Every rank scores its rows of the sampled frames (a collective); with ``record``,
        rank 0 adds a history row and prints it."""
        train_m, valid_m = evaluate.score_model(self.model, self.train_set, self.valid_set,
                                                self.comm, self.threads)
        if record and self.root:
            self.root.record(train_m, valid_m)
        return train_m, valid_m

    # ------------------------------------------------------------------ checkpoint
    def _checkpoint(self, d: Control) -> None:
        """Checkpoint step (collectives when writing): on a signal the resumable model, then
        CheckpointedOnSignal on every rank; a periodic checkpoint when ``d`` says it is due.
        Rank 0's seconds here count in the next scoring-history row."""
        if d.action == "signal" or d.checkpoint:
            self._finish_average()
        t0 = time.perf_counter()
        if d.action == "signal":
            self.model.stop_reason = "signal"
            local_bufs = self.copies.gather()
            self.comm.call_root_agreed(lambda: self.root.write_on_signal(local_bufs))
            raise CheckpointedOnSignal(self.out_path)
        if d.checkpoint:
            local_bufs = self.copies.gather()
            if self.root:
                self.root.write_periodic(local_bufs)
                self.root.phases.add("checkpoint", time.perf_counter() - t0)
            self.copies.settle()

    # ------------------------------------------------------------------ finish
    def _finish(self, sig: SignalFlag) -> None:
        """Finish step (collectives): memory report, best-model restore (kept on rank 0,
        broadcast, scored again on every rank without a history row), the model written.
        ``sig``: a signal that comes now is held until the model is written, then said."""
        m, comm, root = self.model, self.comm, self.root
        self._finish_average()
        mem = comm.gather_obj((peak_rss_bytes(), self.read_bytes, self.rss_start,
                               *resident_split_bytes(), self.shard.nbytes))
        if root:
            m.memory = memory_summary(mem, m.buf.nbytes)
            self.log(memory_line(m.memory), flush=True)
        if comm.bcast_obj(root.take_best() if root else False):
            comm.bcast_array(m.buf)
            self._score(record=False)
            if root:
                root.took_best()
        comm.call_root_agreed(lambda: root.write_final())
        if sig.raised:
            self.log("signal received after training ended: the model is complete")


def train(params, comm, threads: int, out_path: str, model_id: str, log=print,
          choose_threads: bool = False, holdout: Holdout | None = None,
          rows: RowCache | None = None):
    """Train a model on every rank of ``comm``; rank 0 writes it to ``out_path`` and returns it.
    ``choose_threads``: ``threads`` is the most per rank, the count is measured (see Trainer);
    ``holdout``: a cross-validation fold model's held-out fold (None: train on all rows);
    ``rows``: a RowCache shared by the models of a grid group or a cross-validation."""
    trainer = Trainer(params, comm, threads, out_path, model_id, log, choose_threads, holdout,
                      rows)
    try:
        model = trainer.run()
    except (CheckpointedOnSignal, TrainingDiverged):   # raised on every rank together
        trainer.release()
        raise
    trainer.release()
    return model
