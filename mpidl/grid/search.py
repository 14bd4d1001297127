"""The ``grid`` command: H2O's grid search over the ranks (``python -m mpidl grid JOB.toml``).

The world's ranks split into groups of ``--ranks-per-model`` K ranks (``comm.split``); each
group trains one grid point after another with ``train.loop.train`` on its own communicator,
taking the next point's index from a counter held by world rank 0 (``comm.shared_counter``),
so every point is taken exactly once whatever the number of groups.  Before taking a point a
group's first rank checks the grid's stop rules (max_runtime_secs, H2O's grid-level early stop,
a signal).  A point whose parameters fail validation, or whose training refuses its data,
is reported and leaves a ``.failed`` file; the search goes on.  A point already finished in
the output folder is skipped and an interrupted one (a model written on SIGTERM/SIGUSR1)
resumes from its file, so a restarted grid trains nothing twice.  ``--index I`` trains one
point with all ranks (one SLURM array task); ``--collect DIR`` only writes the table.
The queue is ``group_queue.py`` (cross-validation's fold models use it too); a point with
nfolds runs its fold models one after another on its group.
"""

from __future__ import annotations

import glob
import os
import sys
import time

import numpy as np

from ..destination import check_destination
from ..errors import UserError
from ..cv.run import train_with_cv
from ..group_queue import SIGNALLED, STOP, serve_queue
from ..params.crossval import cross_validates
from ..errors import TrainingDiverged
from ..train.row_cache import RowCache
from . import table
from .order import queue_order
from .space import GridJob, load_grid


def _say(line: str) -> None:
    """One line on stdout, now (any rank: a group's first rank reports its models)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _point_text(job: GridJob, index: int) -> str:
    """``model I (name = value, ...)`` for messages."""
    from ..params.text import format_value
    values = ", ".join(f"{k} = {format_value(v)}" for k, v in job.points[index].items())
    return f"{job.grid_id}_model_{index} ({values})"


def _fail(job: GridJob, folder: str, index: int, why: str) -> None:
    """Report point ``index`` as failed (H2O's failed-models list) and leave its .failed file."""
    _say(f"grid: {_point_text(job, index)} failed: {why}")
    table.write_text(table.failure_path(folder, job.grid_id, index), why + "\n")


def _time_capped(params, deadline: float | None):
    """H2O's reconcileMaxRuntime: a model's max_runtime_secs is at most the grid's time left."""
    if deadline is None:
        return params
    left = max(deadline - time.time(), 1e-3)
    own = params.max_runtime_secs
    return params.replace(max_runtime_secs=min(own, left) if own > 0 else left)


def train_point(job: GridJob, index: int, comm, threads: int, folder: str,
                deadline: float | None, choose_threads: bool,
                rows: RowCache | None = None) -> None:
    """Train grid point ``index`` on ``comm`` (all its ranks), unless it is finished or failed
    already; an interrupted one resumes from its model file.  A model that fails is reported
    (on ``comm``'s rank 0) and the call returns.  ``rows``: the group's rows of earlier
    points (``train/row_cache.py``)."""
    state = comm.bcast_obj(table.point_state(folder, job.grid_id, index) if comm.is_root else None)
    if state in ("done", "failed"):
        return
    path = table.model_path(folder, job.grid_id, index)
    try:
        params = job.params_of(index)
    except UserError as e:
        if comm.is_root:
            _fail(job, folder, index, str(e))
        return
    if state == "interrupted" and not cross_validates(params):   # CV restarts the point
        params = params.replace(checkpoint=path)
    params = _time_capped(params, comm.bcast_obj(deadline))
    try:
        model = train_with_cv(params, comm, threads, path, f"{job.grid_id}_model_{index}",
                              log=lambda *a, **k: None, choose_threads=choose_threads,
                              rows=rows)
    except (UserError, TrainingDiverged) as e:
        if isinstance(e, UserError) and not getattr(e, "agreed", False) and comm.size > 1:
            raise   # one rank's error the others cannot know of: the command ends the job
        if comm.is_root:
            _fail(job, folder, index, str(e))
        return
    if comm.is_root:
        row = table.model_row(path, index, job.points[index], job.criteria.stopping_metric)
        _say(f"grid: {_point_text(job, index)}: {row.metric} {row.value:.6g} ({row.scored_on}), "
             f"{row.seconds:.1f}s, {model.processed} samples")


def _next_index(job: GridJob, order: list[int], counter, folder: str, deadline: float | None,
                signalled: bool) -> int:
    """A group's next point (its first rank only): an index, STOP or SIGNALLED; the queue
    hands the points out in ``order`` (``grid/order.py``)."""
    if signalled:
        return SIGNALLED
    if deadline is not None and time.time() >= deadline:
        return STOP
    c = job.criteria
    if c.stopping_rounds > 0:
        rows = table.finished_rows(folder, job.grid_id, job.points, c.stopping_metric)
        if table.grid_converged(rows, c.stopping_rounds, c.stopping_tolerance):
            return STOP
    taken = counter.take()
    return order[taken] if taken < len(order) else STOP


def _search(job: GridJob, comm, ranks_per_model: int, threads: int, folder: str,
            choose_threads: bool) -> None:
    """Every group trains points from the shared queue (``group_queue.py``) until none is
    left or a stop rule holds (collective over ``comm``); CheckpointedOnSignal after a
    signal."""
    c = job.criteria
    deadline = time.time() + c.max_runtime_secs if c.max_runtime_secs > 0 else None
    rows = RowCache()    # points with the same data parameters load the rows once
    order = queue_order(job, comm.size // ranks_per_model)
    serve_queue(comm, ranks_per_model,
                lambda counter, signalled: _next_index(job, order, counter, folder, deadline,
                                                       signalled),
                lambda index, group: train_point(job, index, group, threads, folder, deadline,
                                                 choose_threads, rows),
                folder)


def _report(job: GridJob, folder: str, seconds: float | None) -> None:
    """Write grid.csv from the model files in ``folder``, print the table and the failures."""
    rows = table.finished_rows(folder, job.grid_id, job.points, job.criteria.stopping_metric)
    failed = [i for i in range(len(job.points))
              if table.point_state(folder, job.grid_id, i) == "failed"]
    path = table.write_table(folder, rows, list(job.hyper))
    took = f" in {seconds:.1f}s" if seconds is not None else ""
    _say(f"grid {job.grid_id}: {len(rows)} model(s){took}, {len(failed)} failed; "
         f"table written to {path}")
    sys.stdout.write(table.table_text(rows, list(job.hyper)))
    for i in failed:
        with open(table.failure_path(folder, job.grid_id, i), encoding="utf-8") as fh:
            _say(f"failed: {_point_text(job, i)}: {fh.read().strip()}")


def _check_folder(job: GridJob, folder: str, again: bool) -> None:
    """The output folder exists and grid.csv can be written there; a RandomDiscrete grid
    without a seed is not continued (``again``: one point, the table, or a folder with models
    of this grid already), since a new seed would walk other points (UserError naming it)."""
    if not os.path.isdir(folder):
        raise UserError(f"{folder}: no such folder (create it first)")
    check_destination(os.path.join(folder, table.GRID_CSV))
    again = again or bool(glob.glob(os.path.join(glob.escape(folder), f"{job.grid_id}_model_*")))
    if again and job.criteria.strategy == "RandomDiscrete" and job.criteria.seed == -1:
        raise UserError(f"{job.path}: [search_criteria] 'seed': a RandomDiscrete grid that is "
                        "continued, collected or split by --index needs a seed (the same points)")


def _check_ranks(job: GridJob, comm, ranks_per_model: int, index: int | None) -> None:
    """--ranks-per-model divides the ranks; --index names a point; not every point invalid."""
    if ranks_per_model < 1 or comm.size % ranks_per_model:
        raise UserError(f"--ranks-per-model {ranks_per_model}: must divide the {comm.size} "
                        "rank(s) of the job")
    if index is not None and not 0 <= index < len(job.points):
        raise UserError(f"--index {index}: the grid has points 0 to {len(job.points) - 1}")
    errors = []
    for i in range(len(job.points)):
        try:
            job.params_of(i)
            return
        except UserError as e:
            errors.append(str(e))
    raise UserError(f"{job.path}: every grid point is invalid; the first: {errors[0]}")


def run(job_path: str, folder: str, comm, threads: int, ranks_per_model: int = 1,
        index: int | None = None, collect: bool = False, choose_threads: bool = False) -> None:
    """The grid command on every rank of ``comm``: the whole search (then the table), one
    point (``index``), or only the table (``collect``)."""
    seed = comm.bcast_obj(int(np.random.SeedSequence().entropy % 2**62) if comm.is_root else None)
    job = comm.call_agreed(load_grid, job_path, seed)
    comm.call_root_agreed(_check_folder, job, folder, collect or index is not None)
    if collect:
        comm.call_root_agreed(_report, job, folder, None)
        return
    comm.call_agreed(_check_ranks, job, comm, ranks_per_model if index is None else comm.size,
                     index)
    t0 = time.perf_counter()
    if index is not None:
        train_point(job, index, comm, threads, folder, None, choose_threads)
        return
    _search(job, comm, ranks_per_model, threads, folder, choose_threads)
    comm.call_root_agreed(_report, job, folder, time.perf_counter() - t0)

