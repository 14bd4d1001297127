"""Continuing a cross-validation that a signal stopped (exit 75).

Started again, the same command skips the fold models that finished (their holdout
predictions are made again from their files, on the same rows), continues the interrupted
model (a fold model or the main model) from the file the signal wrote, and trains the rest,
so in reproducible mode it ends with the cross-validation metrics of an uninterrupted run.

A run continues only when one of its model files is an interrupted one (stop reason
``signal``); otherwise every model is trained afresh, so the files of an earlier finished run
are never taken for this one's.  Fold models that are not kept are written under hidden work
names beside the main model (``.NAME_cv_K.h5``) until the cross-validation ends, so that a
restart finds them too.
"""

from __future__ import annotations

import os

from ..checkpoint import read_model
from ..errors import UserError
from ..train.holdout import Holdout, split_shard
from ..train.row_cache import load_training

DONE, INTERRUPTED = "done", "interrupted"


def fold_files(paths, params) -> list[str]:
    """Where the fold models are written: their kept names, or hidden work names."""
    if params.keep_cross_validation_models:
        return list(paths.models)
    return [os.path.join(os.path.dirname(p), "." + os.path.basename(p)) for p in paths.models]


def model_state(path: str) -> str | None:
    """DONE, INTERRUPTED (written on a signal) or None (no readable model file)."""
    try:
        return INTERRUPTED if read_model(path).stop_reason == "signal" else DONE
    except (OSError, UserError):
        return None


def resume_states(folds: list[str], main: str) -> tuple[list[str | None], str | None]:
    """(state of each fold model's file, state of the main model's) when one of them is
    interrupted, else Nones: nothing to continue (rank 0; reads the files)."""
    states = [model_state(p) for p in folds]
    main_state = model_state(main)
    if INTERRUPTED not in states + [main_state]:
        return [None] * len(folds), None
    return states, main_state


def keep_finished_fold(path: str, fold_params, holdout: Holdout, comm, threads: int,
                       rows, model_id: str) -> None:
    """A finished fold model's holdout predictions, made again from its file on this rank's
    holdout rows as the training step made them (a collective; ``rows``: the RowCache of
    the cross-validation's models)."""
    model = comm.call_agreed(read_model, path)
    fresh, _, shard, _ = load_training(fold_params, comm, None, rows, model_id,
                                       lambda *a, **k: None, threads)
    replicated = bool(fresh.params.replicate_training_data) and comm.size > 1
    _, held, held_rows = split_shard(shard, holdout, comm, replicated)
    holdout.keep(model, held_rows, held, 1 if model.params.reproducible else threads)
