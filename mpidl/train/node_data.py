"""Replicated training data held once per node: read and transformed by the node's first rank
into MPI-3 shared memory (``comm.share_array``) that every rank of the node trains from.

H2O runs one JVM per node, whose threads share one copy of the data; mpidl runs one rank per
core, so with ``replicate_training_data = true`` (H2O's default) each rank used to hold the
whole table.  Now only the node's rank 0 reads the rows (the others read none), and after the
transform its arrays are copied into shared windows mapped by all the node's ranks; the kernels
only read them.  Sharded data (``replicate_training_data = false``, or reproducible mode, which
shards) stays per rank, and so do the validation blocks (each rank reads its own block).

``MPIDL_NODE_SHARED_DATA=0`` gives every rank a private copy again (to measure the difference).
Before the rows are read, their memory is checked (``memory.require``): one copy against the
node's memory on the rank that reads for the node, a copy or a block against a rank's share
otherwise.
"""

from __future__ import annotations

import os

from ..comm import ranks_per_node_setting
from ..data.shard_numerics import share_numerics
from ..errors import UserError
from ..launch_env import env_local_ranks
from ..memory import require
from ..params import replicates_data

_F32 = 4
_F64 = 8


def node_shared_setting() -> bool:
    """``MPIDL_NODE_SHARED_DATA``: 1 (default) holds replicated data once per node, 0 per
    rank."""
    raw = os.environ.get("MPIDL_NODE_SHARED_DATA", "1").strip()
    if raw not in ("0", "1"):
        raise UserError(f"MPIDL_NODE_SHARED_DATA={raw!r}: expected 0 (a copy per rank) or 1 "
                        "(one copy per node)")
    return raw == "1"


def data_node(params, comm):
    """The node communicator (``comm.node_comm()``) when this run holds its training rows once
    per node, else None: replicated data, the setting on, and more than one rank on the node.
    A collective of ``comm``."""
    shared = comm.call_agreed(node_shared_setting)
    comm.call_agreed(ranks_per_node_setting)      # a bad value is refused even when unused
    if not shared or not replicates_data(params, comm.size):
        return None
    node = comm.node_comm()
    return node if node.size > 1 else None


def copy_bytes(info, names, rows: int) -> int:
    """Bytes ``rows`` rows of the columns ``names`` take while read and transformed: the raw
    columns (float64 numeric, int32 categorical) and the kernels' arrays (4 bytes a column, a
    float64 response and weight)."""
    raw = sum(_F64 if info.column(n).kind == "numeric" else _F32 for n in names)
    return rows * (raw + _F32 * len(names) + 2 * _F64)


def require_data_memory(info, names, rows: int, node) -> None:
    """UserError naming the training frame when its ``rows`` rows cannot fit: the node's one
    copy against the node's memory (``node`` set: this rank reads for the node), else this
    rank's rows against its share of the node."""
    per_node = node is not None
    what = (f"training_frame {info.path} ({rows} rows of {len(names)} columns, "
            f"{'one copy per node' if per_node else 'on each rank'})")
    require(copy_bytes(info, names, rows), what, 1 if per_node else env_local_ranks())


def share_shard(shard, node):
    """``shard`` with its arrays in the node's shared memory (compact numerics stay compact):
    the node's rank 0 passes its transformed rows, the others their empty ones, and every rank gets views of rank 0's."""
    lead = node.rank == 0
    nums = share_numerics(shard.nums, node)
    shared = [node.share_array(a if lead else None)
              for a in (shard.cats, shard.y, shard.w, shard.kept)]
    off = None if shard.off is None else node.share_array(shard.off if lead else None)
    return type(shard)(nums, *shared[:3], shard.first_row, shared[3], off)
