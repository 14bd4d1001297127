"""Training and validation rows loaded once for several models: the grid points one group of
ranks trains, the fold models of a cross-validation.

Reading a frame, its column statistics (the DataInfo) and the transform into the kernels'
arrays cost MNIST's 60,000 rows about 3 s a model, more than 0.2 epochs of training.  A
``RowCache`` keeps the last load: this rank's transformed training shard with its DataInfo,
and this rank's transformed validation block (before its sample is drawn).  A model whose
parameters give the same key takes them instead of loading again.

The key holds what determines the rows (``ROW_PARAMETERS``, the columns left out, the frames'
absolute paths, sizes and modification times, the communicator's size and this rank).  A
model continued from a checkpoint (its DataInfo is the checkpoint's), a pipe (read once),
rows hashed by ``max_categorical_features`` (their slots depend on each model's seed) and
rows in a node's shared memory (freed after each model) are never cached.  One entry is held:
a miss drops it before the new load, so memory never holds two.  Whether a model hits is
agreed over the communicator (a collective), so every rank loads, or none does.  Shards, score
sets and DataInfo are only read after they are built (subsets are copies), so sharing them
between models is safe; each model gets its own copy of the DataInfo all the same.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

import numpy as np

from ..data.stream import is_stream
from .setup import build_model, make_shard, open_training

# every parameter the training rows and the DataInfo are made from (data/build_info.py,
# train/setup.py's open_training); tests/test_row_cache.py checks the list against the code
ROW_PARAMETERS = ("response_column", "weights_column", "offset_column", "standardize", "sparse",
                  "missing_values_handling", "use_all_factor_levels", "ignore_const_cols",
                  "autoencoder", "distribution", "replicate_training_data", "reproducible",
                  "categorical_encoding", "max_categorical_levels", "max_categorical_features")
NO_HASHING = 2147483647   # max_categorical_features' default: no hashing


def _file_identity(path: str | None) -> tuple | None:
    """(absolute path, bytes, mtime ns) of a frame file; () for none; None when it cannot be
    cached (a pipe, a file that is not there: the load reports it)."""
    if not path:
        return ()
    if is_stream(path):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns)


def training_key(params, comm) -> tuple | None:
    """What determines this rank's training rows and DataInfo, or None when they are not
    cached.  The fold column counts as a column left out (a fold model ignores it)."""
    frame = _file_identity(params.training_frame)
    if frame is None or params.checkpoint or params.max_categorical_features != NO_HASHING:
        return None     # hashed slots depend on each model's seed: never shared
    left_out = set(params.ignored_columns) | {params.fold_column or ""}
    return (frame, tuple(sorted(left_out - {""})), comm.size, comm.rank,
            tuple(repr(getattr(params, name)) for name in ROW_PARAMETERS))


@dataclass
class LoadedRows:
    """One load: ``key`` (``training_key``), the DataInfo, this rank's transformed training
    shard (``train.setup.Shard``) and, once read, its validation block (a ScoreSet of the
    frame ``valid_key`` names, all its rows, before sampling)."""

    key: tuple
    dinfo: object
    shard: object
    valid_key: tuple | None = None
    valid: object = None


class RowCache:
    """The last load of a group of ranks (one per communicator; see the module docstring)."""

    def __init__(self):
        self.entry: LoadedRows | None = None

    def lookup(self, params, comm, node) -> LoadedRows | None:
        """The held load when ``params`` give its key on every rank of ``comm`` (a
        collective), else None (and the held load dropped).  ``node``: rows in a node's
        shared memory are never cached."""
        key = training_key(params, comm) if node is None else None
        hit = key is not None and self.entry is not None and self.entry.key == key
        if not comm.allreduce_min(np.array([int(hit)]))[0]:
            self.entry = None
            return None
        return self.entry

    def store(self, params, comm, node, dinfo, shard) -> None:
        """Keep a fresh load of ``params``' rows (nothing when they are not cached)."""
        key = training_key(params, comm) if node is None else None
        self.entry = None if key is None else LoadedRows(key, copy.deepcopy(dinfo), shard)

    def dinfo_copy(self):
        """A copy of the held DataInfo for a new model."""
        return copy.deepcopy(self.entry.dinfo)

    def validation_rows(self, path: str, comm, read):
        """The validation block of the frame ``path``: the held one when every rank of
        ``comm`` holds it (a collective), else ``read()``'s (then held, when training rows
        are)."""
        key = _file_identity(path)
        hit = self.entry is not None and key is not None and self.entry.valid_key == key
        if comm.allreduce_min(np.array([int(hit)]))[0]:
            return self.entry.valid
        rows = read()
        if self.entry is not None and key is not None:
            self.entry.valid_key, self.entry.valid = key, rows
        return rows


def load_training(params, comm, node, cache: RowCache | None, model_id: str, log,
                  threads: int):
    """(model, sanitization notes, this rank's training shard, bytes read): the rows
    ``cache`` holds for ``params`` when it does, else read, described and transformed (then
    held by ``cache``).  A collective; the arguments are ``setup.build_model``'s, ``log``
    also takes the frame's notes."""
    loaded = cache.lookup(params, comm, node) if cache is not None else None
    if loaded is not None:
        model, notes = build_model(params, None, None, comm, model_id, log, threads,
                                   dinfo=cache.dinfo_copy())
        return model, notes, loaded.shard, 0
    frame, cols, first = open_training(params, comm, node)
    for line in frame.notes:
        log(f"note: {line}")
    model, notes = build_model(params, frame, cols, comm, model_id, log, threads)
    shard = make_shard(model, frame, cols, first, comm, node)
    if cache is not None:
        cache.store(params, comm, node, model.dinfo, shard)
    return model, notes, shard, frame.bytes_read
