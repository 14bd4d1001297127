"""N-fold cross-validation as H2O runs it (``ModelBuilder.computeCrossValidation``, spec 10.1):
the fold models one after another, then the main model on all rows, then the
cross-validation metrics written into the main model.

Each fold model is one call of the train-one-model step (``train.loop.train``) on the whole
communicator, or on a group of ``ranks_per_model`` ranks taking fold models from a shared queue
(``cv/groups.py``), with its fold held out (``train/holdout.py``); nothing else of training is
done here.  The folds are assigned once, by global row index (``cv/folds.py``), so they are the
same whatever the rank count.  The models share one load of the training rows
(``train/row_cache.py``); a run stopped by a signal continues when started again
(``cv/resume.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.frame import Frame
from ..data.stream import is_stream
from ..destination import check_destination
from ..errors import UserError
from ..params import cross_validates
from ..params.text import format_value
from ..train.holdout import Holdout
from ..train.loop import train
from ..train.row_cache import RowCache
from ..train.signals import SignalFlag
from .files import (cv_paths, kept_paths, remove_quietly, write_fold_assignment,
                    write_holdout_predictions)
from .folds import assign_folds
from .groups import ranks_per_fold, train_on_groups
from .holdouts import HoldoutKeeper, summary
from .resume import DONE, INTERRUPTED, fold_files, keep_finished_fold, resume_states

_KEEP_DEFAULTS = dict(keep_cross_validation_models=True, keep_cross_validation_predictions=False,
                      keep_cross_validation_fold_assignment=False)


def _fold_vector(params, comm) -> np.ndarray:
    """int32[N]: the fold of every row of the training frame (each rank reads one column)."""
    path = params.training_frame
    if is_stream(path):
        raise UserError(f"{path}: cross-validation reads the training frame once per model; "
                        "a pipe is read once (import it first: python -m mpidl import)")
    return assign_folds(params, Frame(path, comm.size))


def fold_params(params, nfolds: int):
    """A fold model's parameters: no cross-validation of its own, the fold column ignored,
    its holdout as the validation frame, its share of max_runtime_secs (H2O)."""
    ignored = list(params.ignored_columns) + ([params.fold_column] if params.fold_column else [])
    return params.replace(nfolds=0, fold_column=None, fold_assignment="AUTO",
                          validation_frame=None, ignored_columns=ignored,
                          max_runtime_secs=params.max_runtime_secs / (nfolds + 1),
                          **_KEEP_DEFAULTS)


def main_params(params, fold_epochs: list[float], seconds_used: float, notes: list[str]):
    """The main model's parameters (DeepLearning's ``cv_computeAndSetOptimalParameters``):
    no overwrite_with_best_model; with early stopping or a time limit, no early stopping and
    ``epochs`` = the mean of the fold models' final epoch counts; the time left to it."""
    changes = {}
    if params.overwrite_with_best_model:
        changes["overwrite_with_best_model"] = (False, "main model of cross-validation")
    if params.stopping_rounds > 0 or params.max_runtime_secs > 0:
        changes["stopping_rounds"] = (0, "main model of cross-validation")
        changes["epochs"] = (float(np.mean(fold_epochs)),
                             "mean of the fold models' final epochs")
    if params.max_runtime_secs > 0:
        changes["max_runtime_secs"] = (max(1.0, params.max_runtime_secs - seconds_used),
                                       "time left after the fold models")
    for name, (value, why) in changes.items():
        if getattr(params, name) != value:
            notes.append(f"{name}: {format_value(getattr(params, name))} -> "
                         f"{format_value(value)} ({why})")
    return params.replace(**{k: v for k, (v, _) in changes.items()})


@dataclass
class FoldModels:
    """What the fold models of one cross-validation share: their parameters (``fold_params``),
    the main model's id, the folds (int32[N]), their files and resume states (cv/resume.py)."""

    params: object
    model_id: str
    folds: np.ndarray
    files: list[str]
    states: list
    threads: int
    log: Callable
    choose_threads: bool

    def train(self, k: int, comm, keeper: HoldoutKeeper, rows: RowCache) -> None:
        """Fold model ``k`` (0-based) on every rank of ``comm``, its holdout kept by ``keeper``:
        a finished one (DONE) only scores its holdout again, an interrupted one continues
        from its file."""
        out, state = self.files[k], self.states[k]
        fold_id, holdout = f"{self.model_id}_cv_{k + 1}", Holdout(self.folds, k, keeper.keep)
        if state == DONE:
            keep_finished_fold(out, self.params, holdout, comm, self.threads, rows, fold_id)
            return
        p = self.params.replace(checkpoint=out) if state == INTERRUPTED else self.params
        train(p, comm, self.threads, out, fold_id, self.log, self.choose_threads, holdout, rows)


def _train_folds(fold_models: FoldModels, comm, ranks_per_model: int,
                 rows: RowCache) -> HoldoutKeeper:
    """The fold models one after another on all ranks, or on groups of ``ranks_per_model``
    ranks (``cv/groups.py``).  Returns their holdouts."""
    if ranks_per_model < comm.size:
        return train_on_groups(fold_models, comm, ranks_per_model)
    keeper = HoldoutKeeper(comm)
    for k in range(len(fold_models.files)):
        fold_models.train(k, comm, keeper, rows)
    return keeper


def train_with_cv(params, comm, threads: int, out_path: str, model_id: str, log=print,
                  choose_threads: bool = False, rows: RowCache | None = None,
                  ranks_per_model: int | None = None):
    """The train command's step: ``train`` itself, or with nfolds / fold_column the fold
    models, the main model and its cross-validation metrics.  Returns the main model on rank 0
    (None elsewhere).  ``rows``: the rows loaded for earlier models of ``comm`` (a grid
    group's), reused when the same; the fold models and the main model share a cache of
    their own when none is given.  ``ranks_per_model``: the fold models run on groups of
    that many ranks (None: all ranks; refused without cross-validation)."""
    per_fold = comm.call_agreed(ranks_per_fold, params, comm.size, ranks_per_model)
    if not cross_validates(params):
        return train(params, comm, threads, out_path, model_id, log, choose_threads,
                     rows=rows)
    with SignalFlag():   # a signal between two models stops the next at its first iteration
        return _cross_validate(params, comm, threads, out_path, model_id, log, choose_threads,
                               RowCache() if rows is None else rows, per_fold)


def _cross_validate(params, comm, threads, out_path, model_id, log, choose_threads, rows,
                    per_fold):
    """``train_with_cv`` with cross-validation (continued when a signal stopped it)."""
    t0 = time.perf_counter()
    if params.seed == -1:       # one seed for the folds and every model
        params = params.replace(seed=comm.bcast_obj(int(np.random.SeedSequence().entropy
                                                        % (2**62))))
    folds = comm.call_agreed(_fold_vector, params, comm)
    paths = cv_paths(out_path, int(folds.max()) + 1)
    comm.call_root_agreed(lambda: [check_destination(p, [params.training_frame])
                                   for p in kept_paths(paths, params)])
    files = fold_files(paths, params)
    states, main_state = comm.bcast_obj(resume_states(files, out_path) if comm.is_root else None)
    if comm.is_root and (main_state is not None or INTERRUPTED in states):
        log(f"continuing the cross-validation stopped in {out_path}: "
            f"{states.count(DONE)} fold model(s) finished")
    fold_models = FoldModels(fold_params(params, len(files)), model_id, folds, files, states,
                             threads, log, choose_threads)
    keeper = _train_folds(fold_models, comm, per_fold, rows)
    notes: list[str] = []
    main_p = main_params(params, keeper.epochs, time.perf_counter() - t0, notes)
    for note in notes if comm.is_root and not params.quiet_mode else []:
        log(f"note: {note}")
    if main_state == INTERRUPTED:
        main_p = main_p.replace(checkpoint=out_path)
    model = train(main_p, comm, threads, out_path, model_id, log, choose_threads, rows=rows)
    combined = keeper.cross_validation_metrics()
    parts = comm.gather_obj([(p.rows, p.labels, p.probs) for p in keeper.parts]
                            if params.keep_cross_validation_predictions else None)
    comm.call_root_agreed(lambda: _finish(model, out_path, params, paths, folds, combined,
                                          summary(keeper.fold_metrics), parts))
    if comm.is_root and not params.keep_cross_validation_models:
        for path in files:
            remove_quietly(path)
    if comm.is_root and not params.quiet_mode:
        log(cv_line(model))
    return model


def cv_line(model) -> str:
    """One line: the CV metrics of the holdout predictions together, and the folds' mean
    and sd, for the headline metrics of the model's kind."""
    keys = (("logloss", "AUC", "classification_error") if model.dinfo.classification else
            ("RMSE", "mae", "mean_residual_deviance"))
    s = model.cross_validation_metrics_summary
    parts = [f"{k} {model.cross_validation_metrics[k]:.5g} (folds {s[k]['mean']:.5g} +- "
             f"{s[k]['sd']:.2g})" for k in keys if k in s]
    return (f"cross-validation, {len(next(iter(s.values()))['folds'])} folds: "
            + ", ".join(parts))


def _finish(model, out_path, params, paths, folds, combined, fold_summary, parts) -> None:
    """Rank 0: the kept files written, the cross-validation fields set and the main model
    written again with them."""
    from ..checkpoint import write_model
    files = {"models": paths.models if params.keep_cross_validation_models else []}
    if params.keep_cross_validation_predictions:
        write_holdout_predictions(paths.holdout_predictions, model, parts, folds.shape[0])
        files["holdout_predictions"] = paths.holdout_predictions
    if params.keep_cross_validation_fold_assignment:
        write_fold_assignment(paths.fold_assignment, folds)
        files["fold_assignment"] = paths.fold_assignment
    model.cross_validation_metrics = combined
    model.cross_validation_metrics_summary = fold_summary
    model.cross_validation_files = files
    write_model(out_path, model)
