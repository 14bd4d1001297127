"""Before the first iteration: read this rank's shard, agree on the column plan, build the
model (fresh or from a checkpoint) and rank 0's scoring samples.

Every function here is a collective: all ranks call it in the same order.  User errors found
on any rank become the same error on every rank (``comm.agree``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checkpoint import read_model
from ..data.datainfo import build_datainfo, check_columns
from ..data.frame import Frame
from ..data.hdf5 import block_range
from ..errors import UserError
from ..model.footprint import require_training_memory
from ..model.state import Model
from ..params import check_restart, restart_params, sanitize, validate_for_data
from ..threads import local_ranks
from .evaluate import ScoreSet


@dataclass
class Shard:
    """This rank's training rows, transformed: see ``DataInfo.transform``."""

    nums: np.ndarray
    cats: np.ndarray
    y: np.ndarray
    w: np.ndarray
    first_row: int          # global index of the shard's first raw row

    @property
    def n(self) -> int:
        return int(self.y.shape[0])


def _needed_columns(info, params) -> list[str]:
    skip = set(params.ignored_columns)
    return [n for n in info.names if n not in skip]


def open_training(params, comm):
    """(frame, raw columns of this rank's rows, first_row) for the training frame."""
    def read():
        frame = Frame(params.training_frame, comm.size)
        check_columns(frame.info, params, params.training_frame)
        replicated = params.replicate_training_data and comm.size > 1
        lo, hi = (0, frame.nrows) if replicated else block_range(frame.nrows, comm.size,
                                                                    comm.rank)
        return frame, frame.read(_needed_columns(frame.info, params), lo, hi), lo
    return comm.call_agreed(read)


def _checkpoint_compatible(model: Model, info, source: str) -> None:
    """The new training frame has the checkpoint's columns with the same kinds and levels."""
    d = model.dinfo
    for name, dom in zip(d.cat_names, d.cat_domains):
        col = info.column(name)
        if col.kind != "categorical" or list(col.domain) != list(dom):
            raise UserError(f"checkpoint {source}: column '{name}' of the training frame "
                            "differs from the checkpoint's (kind or levels)")
    for name in d.num_names:
        if info.column(name).kind != "numeric":
            raise UserError(f"checkpoint {source}: column '{name}' is not numeric as in the "
                            "checkpoint")


def build_model(params, frame, cols, comm, model_id: str, log, threads: int = 1):
    """(model, sanitization notes): fresh, or continued from ``params.checkpoint``.

    A fresh model's DataInfo comes from global statistics of the training frame.  On restart
    the checkpoint's DataInfo is kept (H2O rebuilds it from the new frame, silently changing
    the input scaling: a quirk mpidl does not copy).  Before a fresh model is allocated, and
    before a continued one trains, its memory (``threads`` Hogwild threads) is checked.
    """
    def make():
        if params.checkpoint:
            old = read_model(params.checkpoint)
            check_restart(old.params, params, params.checkpoint)
            _checkpoint_compatible(old, frame.info, params.checkpoint)
            if params.epochs <= old.epoch_counter:
                raise UserError(f"checkpoint {params.checkpoint}: epochs ({params.epochs:g}) must "
                                f"exceed the checkpoint's {old.epoch_counter:.4g} epochs")
            p, notes = sanitize(restart_params(old.params, params), old.dinfo.classification,
                                old.dinfo.nclasses, comm.size)
            p = p.replace(seed=old.params.seed) if params.seed == -1 else p
            old.params = p
            return old, notes
        return None, []
    model, notes = comm.call_agreed(make)
    if model is not None:
        comm.call_agreed(require_training_memory, model.layout, model.dinfo, model.params,
                         threads, local_ranks())
        return model, notes
    dinfo = comm.call_agreed(build_datainfo, frame, cols, params, comm, params.training_frame,
                             log)
    comm.call_agreed(validate_for_data, params, dinfo.classification, dinfo.nclasses,
            params.training_frame)
    p, notes = sanitize(params, dinfo.classification, dinfo.nclasses, comm.size)
    comm.call_agreed(require_training_memory, Model.layout_for(p, dinfo), dinfo, p, threads,
                     local_ranks())
    if p.seed == -1:
        p = p.replace(seed=comm.bcast_obj(int(np.random.SeedSequence().entropy % (2**62))))
    return Model.create(p, dinfo, model_id), notes


def make_shard(model: Model, frame, cols, first_row: int, comm) -> Shard:
    """Transform this rank's raw rows for training (rows with a missing response dropped)."""
    nums, cats, y, w, _ = comm.call_agreed(model.dinfo.transform, cols, frame.info,
                                  model.params.training_frame, True)
    return Shard(nums, cats, y, w, first_row)


def sample_rows(n: int, wanted: int, total: int, seed: int, first_row: int) -> np.ndarray:
    """Rows kept by H2O's Bernoulli sampling at probability wanted/total (0 = all rows)."""
    if wanted <= 0 or wanted >= total:
        return np.arange(n)
    rng = np.random.default_rng([seed & (2**63 - 1), first_row])
    return np.flatnonzero(rng.random(n) < wanted / total)


def training_score_set(model: Model, shard: Shard, total_rows: int, comm,
                       replicated: bool) -> ScoreSet | None:
    """Rank 0's sample of the training frame (score_training_samples rows, about)."""
    p = model.params
    if replicated:
        if not comm.is_root:
            return None
        idx = sample_rows(shard.n, p.score_training_samples, total_rows, p.seed, 0)
        return ScoreSet(shard.nums[idx], shard.cats[idx], shard.y[idx], shard.w[idx])
    idx = sample_rows(shard.n, p.score_training_samples, total_rows, p.seed, shard.first_row)
    parts = comm.gather_obj((shard.nums[idx], shard.cats[idx], shard.y[idx], shard.w[idx]))
    if not comm.is_root:
        return None
    return ScoreSet(*(np.concatenate([part[i] for part in parts]) for i in range(4)))


def validation_score_set(model: Model, comm) -> ScoreSet | None:
    """Rank 0 reads and samples the validation frame; other ranks check its columns only."""
    p = model.params
    if not p.validation_frame:
        return None

    def read():
        frame = Frame(p.validation_frame, comm.size)
        for name in model.dinfo.predictors + [model.dinfo.response]:
            if name not in frame.info.names:
                raise UserError(f"{p.validation_frame}: no column '{name}' (the training frame "
                                "has it)")
        if not comm.is_root:
            return None
        cols = frame.read(model.dinfo.predictors + [model.dinfo.response] +
                          ([model.dinfo.weights_column] if model.dinfo.weights_column and
                           model.dinfo.weights_column in frame.info.names else []))
        nums, cats, y, w, _ = model.dinfo.transform(cols, frame.info, p.validation_frame, False)
        if y.size == 0:
            raise UserError(f"{p.validation_frame}: no rows with a usable response")
        idx = sample_rows(y.size, p.score_validation_samples, y.size, p.seed + 1, 0)
        return ScoreSet(nums[idx], cats[idx], y[idx], w[idx])
    return comm.call_agreed(read)


def global_rows(shard: Shard, comm, replicated: bool) -> int:
    """Training rows R over the whole frame (after dropping rows without a response)."""
    if replicated:
        return shard.n
    return int(comm.allreduce_sum(np.array([shard.n], dtype=np.int64))[0])
