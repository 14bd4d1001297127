"""Cross-validation's fold models on groups of ranks (``train --ranks-per-model K``).

The world splits into groups of K consecutive ranks that take fold models from the grid's
shared queue (``group_queue.py``), so each fold model is trained exactly once, by one group,
and its holdout is scored by that group (``HoldoutKeeper`` of the group).  Once every group is
done the folds are combined over the world:

- each fold's metrics on its holdout and its final epoch count come from its group's first
  rank (one ``allgather_obj``), in fold order;
- the holdout outputs move to the first group: group rank j of every group sends its parts to
  world rank j (a gather on the communicator of the ranks with the same group rank), which
  keeps them in fold order.  World rank j then holds exactly what rank j of a sequential
  cross-validation on K ranks holds (the same shard of each fold's holdout, in the same order)
  and the other ranks hold nothing, so the combined metrics are that run's, whichever group
  took which fold.

A fold model that fails (a UserError of its data, divergence) stops its group from taking more,
and once every group is done the first failure is raised on every rank, as the sequential loop
raises it.  In reproducible mode a fold model is bit-identical to the one a sequential
cross-validation on K ranks trains (reproducible means "for a given rank count"), and so are
its metrics.
"""

from __future__ import annotations

import numpy as np

from ..checkpoint import read_model
from ..errors import UserError
from ..group_queue import SIGNALLED, STOP, serve_queue
from ..params import cross_validates
from ..predict import labeled
from ..errors import TrainingDiverged
from ..train.row_cache import RowCache
from .holdouts import HoldoutKeeper, HoldoutPart


def ranks_per_fold(params, nranks: int, ranks_per_model: int | None) -> int:
    """The ranks each fold model trains on: all ``nranks`` when ``ranks_per_model`` is None;
    a UserError naming --ranks-per-model when it does not divide them or there is no
    cross-validation (one model always trains on all ranks)."""
    if ranks_per_model is None:
        return nranks
    if not cross_validates(params):
        raise UserError(f"--ranks-per-model {ranks_per_model}: splits the ranks among the fold "
                        "models of a cross-validation; set nfolds or fold_column, or leave it "
                        "out (one model trains on all ranks)")
    if ranks_per_model < 1 or nranks % ranks_per_model:
        raise UserError(f"--ranks-per-model {ranks_per_model}: must divide the {nranks} "
                        "rank(s) of the job")
    return ranks_per_model


def train_on_groups(fold_models, comm, ranks_per_model: int) -> HoldoutKeeper:
    """Every fold model of ``fold_models`` (``cv/run.FoldModels``) trained once by one group
    of ``ranks_per_model`` ranks (collective over ``comm``).  Returns a keeper over ``comm``
    with every fold's metrics and epochs in fold order and the holdout parts on the first
    group's ranks; CheckpointedOnSignal after a signal."""
    nfolds = len(fold_models.files)
    mine: dict[int, HoldoutKeeper] = {}   # this rank's group's folds, by fold
    rows = RowCache()                     # the group's rows, shared by its fold models
    failed: list[Exception] = []          # the error that ended this group's fold model

    def next_fold(counter, signalled: bool) -> int:
        if signalled:
            return SIGNALLED
        k = counter.take() if not failed else nfolds
        return k if k < nfolds else STOP

    def train_fold(k: int, group) -> None:
        mine[k] = HoldoutKeeper(group)
        try:
            fold_models.train(k, group, mine[k], rows)
        except (UserError, TrainingDiverged) as e:
            if isinstance(e, UserError) and not getattr(e, "agreed", False) and group.size > 1:
                raise   # one rank's error its group cannot know of: the command ends the job
            failed.append(e)

    serve_queue(comm, ranks_per_model, next_fold, train_fold, fold_models.model_id)
    _raise_together(comm, failed[0] if failed else None)
    keeper, owners = _combined(comm, mine, ranks_per_model, fold_models.files)
    if comm.is_root and not fold_models.params.quiet_mode:
        fold_models.log(_owners_line(fold_models.model_id, owners, ranks_per_model))
    return keeper


def _raise_together(comm, error: Exception | None) -> None:
    """The first failing rank's fold model error raised on every rank of ``comm`` (the other
    groups would wait for it forever): a UserError agreed (exit 2, printed once), a
    TrainingDiverged as such (exit 1)."""
    errors = comm.allgather_obj(None if error is None else
                                (isinstance(error, TrainingDiverged), str(error)))
    first = next((e for e in errors if e is not None), None)
    if first is None:
        return
    diverged, message = first
    if diverged:
        raise TrainingDiverged(message)
    agreed = UserError(message)
    agreed.agreed = True
    raise agreed


def _combined(comm, mine: dict[int, HoldoutKeeper], k: int,
              files: list[str]) -> tuple[HoldoutKeeper, list[int]]:
    """(a keeper over ``comm`` of every fold, the group that trained each fold): metrics and
    epochs in fold order on every rank, holdout parts on world ranks 0..k-1 (module doc)."""
    first_in_group = comm.rank % k == 0
    reports = comm.allgather_obj({f: (kp.fold_metrics[0], kp.epochs[0]) for f, kp in mine.items()}
                                 if first_in_group else {})
    by_fold = {f: (rank // k, *report) for rank, per_rank in enumerate(reports)
               for f, report in per_rank.items()}
    folds = range(len(files))
    keeper = HoldoutKeeper(comm)
    keeper.fold_metrics = [by_fold[f][1] for f in folds]
    keeper.epochs = [by_fold[f][2] for f in folds]
    last = len(files) - 1        # the sequential run's keeper converts with the last fold model
    keeper.model = comm.call_agreed(lambda: mine[last].model if last in mine else
                                    read_model(files[last]))
    column = comm.split(comm.rank % k)   # the ranks of the same group rank; world rank j first
    gathered = column.gather_obj({f: kp.parts[0] for f, kp in mine.items()})
    parts = {f: p for per_rank in gathered or [] for f, p in per_rank.items()}
    keeper.parts = [parts[f] for f in folds] if column.is_root else [_empty_part(keeper.model)]
    column.free()
    return keeper, [by_fold[f][0] for f in folds]


def _empty_part(model) -> HoldoutPart:
    """No holdout rows (a rank outside the first group), shaped for ``model``'s outputs."""
    out = np.empty((0, model.layout.units[-1]))
    return HoldoutPart(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), out,
                       *labeled(model, out))


def _owners_line(model_id: str, owners: list[int], k: int) -> str:
    """``cross-validation on groups of K rank(s): ID_cv_1 on ranks 0-1, ...``."""
    where = [f"{model_id}_cv_{f + 1} on rank{'s' if k > 1 else ''} "
             f"{g * k}{f'-{g * k + k - 1}' if k > 1 else ''}" for f, g in enumerate(owners)]
    return f"cross-validation on groups of {k} rank(s): " + ", ".join(where)
