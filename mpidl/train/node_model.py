"""One model per node (``node_shared_model = true``, an mpidl extension): the ranks of a node
train a single flat buffer (weights, biases and optimizer state) held in an MPI-3 shared window,
Hogwild across processes as H2O's threads do inside one JVM, and only one leader rank per node
takes part in the model average.

Per iteration (``NodeModelCopies``, the same interface as ``averaging.ModelCopies``):

- train: every rank of the node runs its rows of the iteration through the kernel on the shared
  buffer (``local``), as threads do inside one rank;
- ``contributes``: the node's rows are summed over its ranks (one small node allreduce); the
  node's leader (its rank 0) counts as one contributor when the node trained a row, the other
  ranks never, so the iteration's contributor count is the number of nodes that trained;
- ``combine``: the leaders average the windows' contents among themselves (``averaging.
  average_models`` on the leaders' communicator, one ``Allreduce``) straight into their
  windows; a node barrier then lets the node's ranks see the average in place.

Rank 0 writes a periodic checkpoint from its window while the others wait (``settle``); at the
end of training ``release`` copies the window into a private buffer on every rank (the best-model
restore, the final scoring and writing use it as without a shared model) and frees the window
and the communicators.

Refused with one line by ``params.validation``: ``reproducible = true`` (Hogwild across
processes cannot be reproduced) and ``elastic_averaging = true`` (a per-node local model and
center are not implemented).
"""

from __future__ import annotations

import numpy as np

from .averaging import average_models


class NodeModelCopies:
    """The node's one model for a run of ``model`` (``model.buf`` becomes a view of the window
    on every rank of the node).  ``local`` is what the kernels train; ``center`` an unused
    float32[1] (elastic averaging is refused with a shared model).  A collective of ``comm``."""

    elastic = False

    def __init__(self, model, comm):
        self.model = model
        self.node = comm.node_comm().split(0)    # its own windows, freed by release()
        self.leader = self.node.rank == 0
        self.leaders = comm.split(0 if self.leader else 1)   # only the leaders' one is used
        model.buf = self.node.share_array(model.buf if self.leader else None)
        self.local = model.buf
        self.center = np.zeros(1, dtype=model.buf.dtype)
        self.node_rows = 0
        self.node.barrier()

    @property
    def nodes(self) -> int:
        """How many nodes average their models (the leaders' communicator's size; rank 0 is a
        leader, so it knows)."""
        return self.leaders.size if self.leader else 0

    def contributes(self, n_local: int) -> bool:
        """Whether this rank brings a model to the average: the node's leader, when the node's
        ranks trained ``n_local`` rows or more in all (a collective of the node)."""
        rows = np.array([n_local], dtype=np.int64)
        self.node_rows = int(self.node.allreduce_sum(rows)[0])
        return self.leader and self.node_rows > 0

    def combine(self, n_local: int, contributors: int) -> None:
        """The leaders average their nodes' models in the windows (``contributors``: nodes
        that trained, from ``contributes``); every rank of the node then sees the mean.  A
        collective; ``n_local`` is counted by ``contributes`` already."""
        if self.leader:
            average_models(self.leaders, self.local, self.node_rows, contributors)
        self.node.barrier()

    def finish_average(self) -> None:
        """The leaders' average is blocking: none is left in flight."""

    def gather(self) -> None:
        """Nothing to gather: with model averaging a checkpoint holds the model alone."""
        return None

    def settle(self) -> None:
        """After rank 0 wrote a checkpoint from its window: the node's ranks wait for it before
        they train into the window again (a node barrier)."""
        self.node.barrier()

    def release(self) -> None:
        """The model's buffer becomes a private copy of the window on every rank, then the
        window and the communicators are freed (a collective; a second call does nothing)."""
        if self.node is None:
            return
        self.node.barrier()
        self.model.buf = self.local = np.array(self.local)
        self.node.barrier()
        self.node.free()
        self.leaders.free()
        self.node = self.leaders = None

