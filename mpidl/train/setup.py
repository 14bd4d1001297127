"""Before the first iteration: read this rank's shard, agree on the column plan, build the
model (fresh or from a checkpoint) and this rank's part of the scoring samples.

Every function here is a collective: all ranks call it in the same order.  User errors found
on any rank become the same error on every rank (``comm.agree``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checkpoint import read_model
from ..comm import SerialComm
from ..data.build_info import build_datainfo, check_columns
from ..data.frame import Frame
from ..data.hashing import java_int
from ..data.hdf5 import block_range
from ..data.shard_numerics import compact_shard_setting
from ..errors import UserError
from ..export.weights import load_initial_tables
from ..launch_env import env_local_ranks
from ..model.footprint import require_training_memory
from ..model.pretrained import start_from_autoencoder
from ..model.state import Model
from ..params import (check_restart, replicates_data, restart_params, sanitize,
                      validate_for_data)
from .evaluate import ScoreSet
from .node_data import require_data_memory, share_shard


@dataclass
class Shard:
    """This rank's training rows, transformed: see ``DataInfo.transform`` (``nums``: float32
    or compact numerics, ``data/shard_numerics.py``)."""

    nums: object
    cats: np.ndarray
    y: np.ndarray
    w: np.ndarray
    first_row: int          # global index of the shard's first raw row
    kept: np.ndarray | None = None   # int64[n]: each row's index among the shard's raw rows
    off: np.ndarray | None = None    # float64[n]: offsets in output units, or None

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the shard's arrays (the training rows a rank holds, in its own memory or
        mapped from its node's)."""
        return sum(a.nbytes for a in (self.nums, self.cats, self.y, self.w, self.kept, self.off)
                   if a is not None)

    def score_set(self, idx: np.ndarray) -> ScoreSet:
        """The rows ``idx`` (indices or a mask) as rows to score."""
        return ScoreSet(self.nums[idx], self.cats[idx], self.y[idx], self.w[idx],
                        None if self.off is None else self.off[idx])

    def subset(self, idx: np.ndarray) -> "Shard":
        """The rows ``idx`` (indices or a mask) as a shard of their own."""
        return Shard(self.nums[idx], self.cats[idx], self.y[idx], self.w[idx], self.first_row,
                     self.kept[idx], None if self.off is None else self.off[idx])


def _needed_columns(info, params) -> list[str]:
    skip = set(params.ignored_columns)
    return [n for n in info.names if n not in skip]


def reads_all_rows(params, comm) -> bool:
    """Whether every rank reads the whole training frame (replicated data on several ranks,
    not reproducible: the rule sanitize applies later, ``params.replicates_data``)."""
    return replicates_data(params, comm.size)


def open_training(params, comm, node=None):
    """(frame, raw columns of this rank's rows, first_row) for the training frame.  With
    ``node`` (data held once per node, ``node_data.data_node``) only the node's rank 0 reads
    the rows, the others none; the rows' memory is checked before they are read from a table
    (a CSV is parsed whole when opened)."""
    def read():
        frame = Frame(params.training_frame, comm.size)
        check_columns(frame.info, params, params.training_frame)
        lo, hi = (0, frame.nrows) if reads_all_rows(params, comm) else \
            block_range(frame.nrows, comm.size, comm.rank)
        hi = lo if node is not None and node.rank > 0 else hi
        names = _needed_columns(frame.info, params)
        if not frame.in_memory:
            require_data_memory(frame.info, names, hi - lo, node)
        return frame, frame.read(names, lo, hi), lo
    return comm.call_agreed(read)


def _checkpoint_compatible(model: Model, info, cols: dict, source: str, offset) -> None:
    """The new training frame has the checkpoint's columns with the same kinds and levels, and
    no response level the model does not know (``cols``: this rank's raw columns); the job's
    ``offset`` column is the checkpoint's (its DataInfo, which the restart keeps, applies it)."""
    d = model.dinfo
    if (offset or None) != d.offset_column:
        raise UserError(f"checkpoint {source}: parameter 'offset_column' differs (checkpoint: "
                        f"{d.offset_column or 'none'}, job: {offset or 'none'})")
    new = [] if d.autoencoder else d.unseen_response_levels(cols[d.response],
                                                            info.column(d.response))
    if new:
        shown = ", ".join(f"'{lv}'" for lv in new[:10]) + (", ..." if len(new) > 10 else "")
        raise UserError(f"checkpoint {source}: response column '{d.response}' of the training "
                        f"frame has {len(new)} level(s) the model does not know: {shown}")
    same = sorted if model.params.categorical_encoding == "SortByResponse" else list
    for name, dom in d.raw_categoricals():
        col = info.column(name)
        if col.kind != "categorical" or same(col.domain) != same(dom):
            raise UserError(f"checkpoint {source}: column '{name}' of the training frame "
                            "differs from the checkpoint's (kind or levels)")
    for name in d.raw_numerics():
        if info.column(name).kind != "numeric":
            raise UserError(f"checkpoint {source}: column '{name}' is not numeric as in the "
                            "checkpoint")


def build_model(params, frame, cols, comm, model_id: str, log, threads: int = 1, dinfo=None):
    """(model, sanitization notes): fresh, or continued from ``params.checkpoint``.

    A fresh model's DataInfo comes from global statistics of the training frame (or is
    ``dinfo``, when the rows were loaded for an earlier model: ``train/row_cache.py``).  On restart
    the checkpoint's DataInfo is kept (H2O rebuilds it from the new frame, silently changing
    the input scaling: a quirk mpidl does not copy).  Before a fresh model is allocated, and
    before a continued one trains, its memory (``threads`` Hogwild threads) is checked.
    """
    def make():
        if params.checkpoint:
            old = read_model(params.checkpoint)
            check_restart(old.params, params, params.checkpoint)
            _checkpoint_compatible(old, frame.info, cols, params.checkpoint,
                                   params.offset_column)
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
                         threads, env_local_ranks())
        return model, notes
    # statistics add the ranks' rows: with replicated data rank 0's copy is the whole frame
    if dinfo is None and reads_all_rows(params, comm):
        dinfo = comm.bcast_obj(comm.call_root_agreed(build_datainfo, frame, cols, params,
                                                     SerialComm(), params.training_frame, log))
    elif dinfo is None:
        dinfo = comm.call_agreed(build_datainfo, frame, cols, params, comm,
                                 params.training_frame, log)
    comm.call_agreed(validate_for_data, params, dinfo.classification, dinfo.nclasses,
            params.training_frame)
    p, notes = sanitize(params, dinfo.classification, dinfo.nclasses, comm.size)
    comm.call_agreed(require_training_memory, Model.layout_for(p, dinfo), dinfo, p, threads,
                     env_local_ranks())
    if p.seed == -1:
        p = p.replace(seed=comm.bcast_obj(int(np.random.SeedSequence().entropy % (2**62))))
    if dinfo.hash_slots:   # H2O hashes with (int) of the model's seed
        dinfo.hash_seed = java_int(p.seed)
    model = Model.create(p, dinfo, model_id)
    if p.pretrained_autoencoder:
        comm.call_agreed(start_from_autoencoder, model, p.pretrained_autoencoder)
    loaded = comm.call_agreed(load_initial_tables, model, p.initial_weights, p.initial_biases)
    if loaded:
        log(f"initial weights and biases of layer(s) {loaded} read from initial_weights / "
            "initial_biases")
    return model, notes


def make_shard(model: Model, frame, cols, first_row: int, comm, node=None) -> Shard:
    """Transform this rank's raw rows for training (rows with a missing response dropped;
    integer numerics kept compact unless ``MPIDL_COMPACT_SHARD=0``); with ``node``, the node's
    rank 0's rows in the node's shared memory on every rank."""
    def transform():
        d, source = model.dinfo, model.params.training_frame
        nums, cats, y, w, kept = d.transform(cols, frame.info, source, True,
                                             compact=compact_shard_setting(),
                                             stored_types=frame.stored_types)
        off = d.link_offsets(cols, frame.info, source)
        return Shard(nums, cats, y, w, first_row, kept, None if off is None else off[kept])
    shard = comm.call_agreed(transform)
    return shard if node is None else share_shard(shard, node)


def sample_rows(n: int, wanted: int, total: int, seed: int, first_row: int) -> np.ndarray:
    """Rows kept by H2O's Bernoulli sampling at probability wanted/total (0 = all rows)."""
    if wanted <= 0 or wanted >= total:
        return np.arange(n)
    rng = np.random.default_rng([seed & (2**63 - 1), first_row])
    return np.flatnonzero(rng.random(n) < wanted / total)


def training_score_set(model: Model, shard: Shard, total_rows: int, comm,
                       replicated: bool) -> ScoreSet:
    """This rank's part of the training-frame sample (score_training_samples rows in all,
    about): its shard's sampled rows, or with replicated data its block of the sample drawn
    from the whole frame (the 1-rank sample)."""
    p = model.params
    if replicated:
        idx = sample_rows(shard.n, p.score_training_samples, total_rows, p.seed, 0)
        lo, hi = block_range(idx.size, comm.size, comm.rank)
        idx = idx[lo:hi]
    else:
        idx = sample_rows(shard.n, p.score_training_samples, total_rows, p.seed,
                          shard.first_row)
    return shard.score_set(idx)


def _rows_before(n: int, comm) -> tuple[int, int]:
    """(rows on lower ranks, rows on all ranks) for this rank's ``n`` rows."""
    counts = comm.allgather_array(np.array([n], dtype=np.int64))[:, 0]
    return int(counts[:comm.rank].sum()), int(counts.sum())


def _validation_sample(n: int, wanted: int, seed: int, comm) -> tuple[np.ndarray, int]:
    """(indices of this rank's kept rows, total rows) of H2O's Bernoulli sample of the whole
    validation frame: the same rows whatever the rank count (one random stream over all rows,
    each rank using its stretch of it)."""
    before, total = _rows_before(n, comm)
    if wanted <= 0 or wanted >= total:
        return np.arange(n), total
    rng = np.random.default_rng([seed & (2**63 - 1), 0])
    return np.flatnonzero(rng.random(before + n)[before:] < wanted / total), total


def frame_score_set(model: Model, path: str, comm) -> ScoreSet:
    """This rank's block of the frame ``path``, read and transformed as the model's training
    rows were (every rank scores its own block; a collective)."""
    d = model.dinfo
    wanted = d.predictors + ([] if d.autoencoder else [d.response])

    def read():
        frame = Frame(path, comm.size)
        present = set(frame.info.names)
        for name in wanted:
            if name not in present:
                raise UserError(f"{path}: no column '{name}' (the training frame has it)")
        lo, hi = block_range(frame.nrows, comm.size, comm.rank)
        extra = [c for c in (d.weights_column, d.offset_column) if c and c in frame.info.names]
        cols = frame.read(wanted + extra, lo, hi)
        nums, cats, y, w, kept = d.transform(cols, frame.info, path, False)
        off = d.link_offsets(cols, frame.info, path)
        return ScoreSet(nums, cats, y, w, None if off is None else off[kept])
    return comm.call_agreed(read)


def validation_score_set(model: Model, comm, cache=None) -> ScoreSet | None:
    """This rank's block of the validation frame, sampled to ``score_validation_samples``;
    ``cache``: a ``row_cache.RowCache`` that may hold the block already."""
    p = model.params
    if not p.validation_frame:
        return None
    read = lambda: frame_score_set(model, p.validation_frame, comm)  # noqa: E731
    rows = read() if cache is None else cache.validation_rows(p.validation_frame, comm, read)
    idx, total = _validation_sample(rows.n, p.score_validation_samples, p.seed + 1, comm)
    if total == 0:
        comm.agree(UserError(f"{p.validation_frame}: no rows with a usable response"))
    return rows.take(idx)


def global_rows(shard: Shard, comm, replicated: bool) -> int:
    """Training rows R over the whole frame (after dropping rows without a response)."""
    if replicated:
        return shard.n
    return int(comm.allreduce_sum(np.array([shard.n], dtype=np.int64))[0])
